// Enhancement/: the optional last stage of a portrait, a GFPGANv1Clean face restorer loaded
// from an enhancer file. `Enhancer` (here) is the public type; `EnhancerConfig` and
// `EnhancerLayout` read and name the file, `EnhancerWeights` holds it, `EnhancerNetwork` runs
// the U-Net, the StyleGAN2 decoder of modulated convolutions (`ModulatedConv`) and CS-SFT,
// with `SameConv`, `WinogradConv` (3x3) and `Bilinear` resizing as its kernels.

/// A loaded face enhancer (an enhancer file, docs/enhancer-format.md): GFPGAN-style face
/// restoration of a face picture to the enhancer's size S. Immutable after load and safe to
/// use from many threads at once (each call borrows its own workspace).
public final class Enhancer: @unchecked Sendable {
    /// Largest enhancer file accepted (GFPGAN v1.3/v1.4 at 512 px are about 340 MB as F32).
    public static let maxFileBytes = 2 << 30
    /// Largest side of an input picture.
    public static let maxImageSide = 1 << 14
    /// Most images of one `enhanceRaw` call.
    public static let maxBatch = 1024

    public let config: EnhancerConfig
    /// Output side in pixels (also the network's input side).
    public var size: Int { config.outSize }
    public var parameterCount: Int { network.weights.parameterCount }
    /// The SHA-256 of the file's bytes (lowercase hex) and their count.
    public var sha256: String { digest.hex }
    public let fileBytes: Int

    let network: EnhancerNetwork
    private let digest: BackgroundDigest
    /// Keeps a workspace of any size: every call needs the same scratch (about 500 MiB at
    /// 512 px), so it is reused rather than allocated and faulted in again.
    private let pool = WorkspacePool(retainLimit: Int.max)

    /// Told (stages done, stages in all) before the first stage (0) and after each; returns
    /// false to stop the call, which then throws `.aborted`.
    public typealias Progress = (Int, Int) -> Bool

    public convenience init(path: String, maxHeaderBytes: Int = Safetensors.defaultMaxHeaderBytes) throws {
        try self.init(bytes: try FileIO.read(path, limit: Enhancer.maxFileBytes), maxHeaderBytes: maxHeaderBytes)
    }

    public init(bytes: [UInt8], maxHeaderBytes: Int = Safetensors.defaultMaxHeaderBytes) throws {
        Threads.useSingleThreadedBLAS()
        let file = try Safetensors(bytes: bytes, maxHeaderBytes: maxHeaderBytes)
        config = try EnhancerConfig.parse(metadata: file.metadata)
        network = try EnhancerNetwork(file: file, config: config)
        fileBytes = bytes.count
        digest = BackgroundDigest(of: bytes)
    }

    /// The network's output `out[count, 3, S, S]` (before clamping) for `x[count, 3, S, S]`
    /// in [-1, 1] (any finite values are accepted).
    public func enhanceRaw(_ x: UnsafePointer<Float>, count: Int, into out: UnsafeMutablePointer<Float>,
                           progress: Progress? = nil) throws {
        guard (1...Enhancer.maxBatch).contains(count) else {
            throw AVPGANError.invalid("n is \(count), expected 1...\(Enhancer.maxBatch)")
        }
        let floats = 3 * size * size
        try Model.checkFinite(x, count: count * floats, name: "images") { "image \($0 / floats), element \($0 % floats)" }
        let total = count * network.steps
        var done = 0
        func aborted() -> AVPGANError {
            AVPGANError(.aborted, "enhancement aborted by the caller after \(done) of \(total) stages")
        }
        if let progress, !progress(0, total) { throw aborted() }
        try pool.with { workspace in
            for i in 0..<count {
                try network.forward(x + i * floats, workspace: workspace, into: out + i * floats) {
                    done += 1
                    if let progress, !progress(done, total) { throw aborted() }
                }
            }
        }
    }

    /// Restores one RGB8 picture `pixels[height, rowStride]` (rows of `3 width` bytes) into
    /// `out[S, S, 3]`: the picture is resized to S x S (bilinear with half-pixel centres,
    /// antialiased when shrinking: `ImageResize`), mapped to [-1, 1] by `x / 127.5 - 1`,
    /// restored, clamped to [-1, 1] and mapped back to 0...255, rounding half up.
    public func enhanceRGB8(_ pixels: UnsafePointer<UInt8>, width: Int, height: Int, rowStride: Int,
                            into out: UnsafeMutablePointer<UInt8>, progress: Progress? = nil) throws {
        let sides = 1...Enhancer.maxImageSide
        guard sides.contains(width), sides.contains(height) else {
            throw AVPGANError.invalid("the image is \(width) x \(height) pixels; each side must be 1...\(Enhancer.maxImageSide)")
        }
        guard rowStride >= 3 * width, rowStride <= 1 << 20 else {
            throw AVPGANError.invalid("row_stride is \(rowStride) bytes; it must be at least width * 3 (\(3 * width)) and at most 2^20")
        }
        let s = size, floats = 3 * s * s
        var packed: [UInt8] = []
        if rowStride != 3 * width {
            packed = [UInt8](repeating: 0, count: 3 * width * height)
            for y in 0..<height { for x in 0..<(3 * width) { packed[3 * width * y + x] = pixels[rowStride * y + x] } }
        }
        let input = try FloatStorage(count: floats), output = try FloatStorage(count: floats)
        let scratch = try FloatStorage(count: 3 * height * s)
        func normalize(_ p: UnsafePointer<UInt8>) {
            ImageResize.normalizedPlanes(p, width: width, height: height, size: s, mean: 127.5, std: 127.5, bgr: false,
                                         scratch: scratch.pointer, into: input.pointer)
        }
        if packed.isEmpty { normalize(pixels) } else { packed.withUnsafeBufferPointer { normalize($0.baseAddress!) } }
        try enhanceRaw(input.pointer, count: 1, into: output.pointer, progress: progress)
        PixelMapping.clamp.apply(output.pointer, size: s, into: out)
    }
}
