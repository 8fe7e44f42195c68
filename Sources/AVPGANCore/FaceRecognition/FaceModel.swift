// FaceRecognition/: face-recognition networks (MobileFaceNet, IResNet) loaded from face model
// files, used by the evaluations to compare generated faces with real ones. `FaceModel` (here)
// is the public type; `FaceModelConfig` and `FaceNetworkSpec` describe a file's network,
// `FaceNetwork` runs it on the kernels of `Kernels/`.

/// A loaded face-recognition network (a face model file, docs/face-model-format.md): RGB8
/// faces of any size in, embeddings out. Immutable after load and safe to use from many
/// threads at once (each call borrows its own workspace).
public final class FaceModel: @unchecked Sendable {
    /// Largest side of an image accepted.
    public static let maxImageSide = 1 << 14
    /// Largest face model file accepted (iresnet200 is about 260 MB).
    public static let maxFileBytes = 2 << 30

    /// An RGB8 image, `pixels[height, width, 3]` row-major.
    public struct Image: Sendable {
        public var pixels: [UInt8]
        public var width: Int
        public var height: Int

        public init(pixels: [UInt8], width: Int, height: Int) {
            self.pixels = pixels
            self.width = width
            self.height = height
        }
    }

    public let config: FaceModelConfig
    public var embedDim: Int { config.embedDim }
    public var inputSize: Int { config.inputSize }
    public var parameterCount: Int { network.parameterCount }
    /// The SHA-256 of the file's bytes (lowercase hex).
    public var sha256: String { digest.hex }

    let network: FaceNetwork
    private let digest: BackgroundDigest
    private let pool = WorkspacePool()

    public convenience init(path: String, maxHeaderBytes: Int = Safetensors.defaultMaxHeaderBytes) throws {
        try self.init(bytes: try FileIO.read(path, limit: FaceModel.maxFileBytes), maxHeaderBytes: maxHeaderBytes)
    }

    public init(bytes: [UInt8], maxHeaderBytes: Int = Safetensors.defaultMaxHeaderBytes) throws {
        let file = try Safetensors(bytes: bytes, maxHeaderBytes: maxHeaderBytes)
        config = try FaceModelConfig.parse(metadata: file.metadata)
        network = try FaceNetwork(file: file, config: config)
        digest = BackgroundDigest(of: bytes)
    }

    /// The embedding `out[embedDim]` (the network's raw output) of one RGB8 image
    /// `pixels[height, width, 3]`, resized to the network's input (`ImageResize`).
    public func embedRGB8(_ pixels: UnsafePointer<UInt8>, width: Int, height: Int, into out: UnsafeMutablePointer<Float>) throws {
        try checkSize(width: width, height: height, name: "image")
        try pool.with { workspace in
            try network.forward(count: 1, workspace: workspace, fill: { input in
                try normalize(pixels, width: width, height: height, workspace: workspace, batch: 1, index: 0, into: input)
            }, into: out)
        }
        try Model.checkOutput(out, count: embedDim, what: "the face embedding")
    }

    /// Embeddings `out[images.count, embedDim]` of `images`, computed in batches.
    public func embed(_ images: [Image], into out: UnsafeMutablePointer<Float>) throws {
        for (i, image) in images.enumerated() {
            try checkSize(width: image.width, height: image.height, name: "image \(i)")
            guard image.pixels.count == image.width * image.height * 3 else {
                throw AVPGANError.invalid("image \(i) holds \(image.pixels.count) bytes, not \(image.width) x \(image.height) x 3")
            }
        }
        try pool.with { workspace in
            let chunk = network.chunkSize
            var start = 0
            while start < images.count {
                let n = min(chunk, images.count - start)
                try network.forward(count: n, workspace: workspace, fill: { input in
                    for k in 0..<n {
                        let image = images[start + k]
                        try image.pixels.withUnsafeBufferPointer { p in
                            try normalize(p.baseAddress!, width: image.width, height: image.height, workspace: workspace,
                                          batch: n, index: k, into: input)
                        }
                    }
                }, into: out + start * embedDim)
                start += n
            }
        }
        try Model.checkOutput(out, count: images.count * embedDim, what: "the face embeddings")
    }

    /// Convenience: the embedding of one image as an array.
    public func embed(_ image: Image) throws -> [Float] {
        var out = [Float](repeating: 0, count: embedDim)
        try embed([image], into: &out)
        return out
    }

    /// Writes image `index` of a batch of `batch` into the CNHW input `[3, batch, S, S]`.
    private func normalize(_ pixels: UnsafePointer<UInt8>, width: Int, height: Int, workspace: Workspace,
                           batch: Int, index: Int, into input: UnsafeMutablePointer<Float>) throws {
        let s = inputSize, plane = s * s
        let planes = try workspace.slot(6, count: 3 * plane)
        let scratch = try workspace.slot(7, count: 3 * height * s)
        ImageResize.normalizedPlanes(pixels, width: width, height: height, size: s, mean: config.inputMean,
                                     std: config.inputStd, bgr: config.bgr, scratch: scratch, into: planes)
        for c in 0..<3 { (input + (c * batch + index) * plane).update(from: planes + c * plane, count: plane) }
    }

    private func checkSize(width: Int, height: Int, name: String) throws {
        guard (1...FaceModel.maxImageSide).contains(width), (1...FaceModel.maxImageSide).contains(height) else {
            throw AVPGANError.invalid("\(name) is \(width) x \(height) pixels; each side must be 1...\(FaceModel.maxImageSide)")
        }
    }
}

/// Cosine similarity of two vectors, `a·b / (|a| |b|)`, summed in Double; 0 when either is zero.
public func cosineSimilarity(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Double {
    var dot = 0.0, na = 0.0, nb = 0.0
    for i in 0..<count {
        let x = Double(a[i]), y = Double(b[i])
        dot += x * y; na += x * x; nb += y * y
    }
    guard na > 0, nb > 0 else { return 0 }
    return dot / (na.squareRoot() * nb.squareRoot())
}

public func cosineSimilarity(_ a: [Float], _ b: [Float]) -> Double {
    precondition(a.count == b.count)
    return cosineSimilarity(a, b, count: a.count)
}
