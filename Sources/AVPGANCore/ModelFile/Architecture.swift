/// The three network families of the reference (`ARCHS` in avpgan_torch.py).
public enum Architecture: String, CaseIterable, Sendable {
    case voice2face
    case avpgan
    case avpganNoCBAM = "avpgan-nocbam"

    /// CBAM after generator / face-encoder blocks 2-5.
    public var hasCBAM: Bool { self == .avpgan }
    /// Spectral norm on the stride-2 layers of generator and face encoder.
    public var hasSpectralNorm: Bool { self != .voice2face }
}
