/// How spectrally normalised layers store their weight (docs/model-format.md).
public enum SpectralNormStorage: String, Sendable {
    case none, folded, stored
}
