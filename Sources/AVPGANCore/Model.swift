// AVPGANCore: the pure-Swift core, every algorithm of libavpgan and no C API name. `Model`
// (here) is a loaded model file. A portrait travels Audio/ (decode, features) -> Networks/
// (embed, generate) -> Enhancement/ (enhance) -> Image/ (encode), put together by Pipeline/;
// ModelFile/ reads and writes the files, Kernels/ computes, Training/ and Data/ train,
// FaceRecognition/ and Evaluation/ measure, Synthetic/ makes a demonstration data set, and
// Support/ holds what all of them share. docs/architecture.md has the whole plan.

/// Options for loading a model file.
public struct LoadOptions: Sendable {
    /// Largest safetensors JSON header accepted, in bytes.
    public var maxHeaderBytes: Int = Safetensors.defaultMaxHeaderBytes
    /// Load only the voice encoder and generator (the file's other tensors are still checked).
    public var inferenceOnly = true

    public init(maxHeaderBytes: Int = Safetensors.defaultMaxHeaderBytes, inferenceOnly: Bool = true) {
        self.maxHeaderBytes = maxHeaderBytes
        self.inferenceOnly = inferenceOnly
    }
}

/// A loaded AVP-GAN / Voice2Face model: immutable after load, safe to use from many threads at
/// once (each call borrows its own scratch workspace from a pool).
public final class Model: @unchecked Sendable {
    public static let maxFrames = 1 << 20
    /// Largest model file accepted (the full-width models are about 60 MB).
    public static let maxFileBytes = 4 << 30
    public static let maxBatch = 1 << 16

    /// The file's config.
    public let config: ModelConfig
    /// The networks actually loaded.
    public let loaded: [NetworkName]
    public let parameterCount: Int

    let voiceEncoder: VoiceEncoder
    /// nil for an encoder-only file (`networks: ["voice_encoder"]`).
    let generator: Generator?
    let faceEncoder: FaceEncoder?
    let discriminator: Linear?
    let classifier: Linear?
    private let pool = WorkspacePool()

    public convenience init(path: String, options: LoadOptions = LoadOptions()) throws {
        try self.init(bytes: try FileIO.read(path, limit: Model.maxFileBytes), options: options)
    }

    /// The SHA-256 of the model file's bytes (lowercase hex), for provenance.
    public var sha256: String { digest.hex }
    private let digest: BackgroundDigest

    public init(bytes: [UInt8], options: LoadOptions = LoadOptions()) throws {
        let file = try Safetensors(bytes: bytes, maxHeaderBytes: options.maxHeaderBytes)
        config = try ModelConfig.parse(metadata: file.metadata)
        let reader = try WeightReader(file: file, config: config)
        voiceEncoder = try VoiceEncoder(reader)
        generator = config.has(.generator) ? try Generator(reader) : nil
        let full = !options.inferenceOnly
        faceEncoder = full && config.has(.faceEncoder) ? try FaceEncoder(reader) : nil
        let e = config.embedDim
        discriminator = full && config.has(.discriminator)
            ? Linear(weight: try reader.storage(TensorLayout.discriminatorWeight), bias: nil, inFeatures: e, outFeatures: 1) : nil
        classifier = full && config.has(.classifier)
            ? Linear(weight: try reader.storage(TensorLayout.classifierWeight), bias: nil, inFeatures: e, outFeatures: config.identities) : nil
        loaded = [.voiceEncoder] + (generator != nil ? [.generator] : []) + (faceEncoder != nil ? [.faceEncoder] : [])
            + (discriminator != nil ? [.discriminator] : []) + (classifier != nil ? [.classifier] : [])
        digest = BackgroundDigest(of: bytes)
        parameterCount = voiceEncoder.parameterCount + (generator?.stack.parameterCount ?? 0)
            + (faceEncoder?.stack.parameterCount ?? 0) + (discriminator?.weight.count ?? 0) + (classifier?.weight.count ?? 0)
    }

    public var embedDim: Int { config.embedDim }
    /// Generated faces are `imageSize x imageSize`; 0 when the file holds no generator.
    public var imageSize: Int { config.imageSize }
    /// Floats in one generated image (3 x S x S); 0 when the file holds no generator.
    public var imageFloats: Int { 3 * imageSize * imageSize }

    // MARK: Inference

    /// The unit voice embedding of `features[frames, melBands]` (frame-major) into `out[embedDim]`.
    public func embed(features: UnsafePointer<Float>, frames: Int, melBands: Int, into out: UnsafeMutablePointer<Float>) throws {
        try checkEmbedShape(frames: frames, melBands: melBands)
        try Model.checkFinite(features, count: frames * melBands, name: "features") { i in "frame \(i / melBands), band \(i % melBands)" }
        try pool.with { try voiceEncoder.embed(features, frames: frames, workspace: $0, into: out) }
        try Model.checkOutput(out, count: embedDim, what: "the voice embedding")
    }

    /// The checks `embed` makes on the shape of its features, for a size query to make the same.
    public func checkEmbedShape(frames: Int, melBands: Int) throws {
        guard melBands == config.nMels else {
            throw AVPGANError.invalid("n_mels is \(melBands) but the model takes \(config.nMels) bands")
        }
        guard (1...Model.maxFrames).contains(frames) else {
            throw AVPGANError.invalid("n_frames is \(frames), expected 1...\(Model.maxFrames)")
        }
    }

    /// The checks `generate` and `generateRGB8` make before reading their embeddings (a
    /// generator; `count` and `embedDim` in range), for a size query to make the same.
    public func checkGenerateShape(count: Int, embedDim: Int) throws {
        try requireGenerator()
        try checkEmbeddingShape(count: count, embedDim: embedDim)
    }

    private func checkEmbeddingShape(count: Int, embedDim: Int) throws {
        guard embedDim == config.embedDim else {
            throw AVPGANError.invalid("embed_dim is \(embedDim) but the model's embeddings have \(config.embedDim) values")
        }
        guard (1...Model.maxBatch).contains(count) else { throw AVPGANError.invalid("n is \(count), expected 1...\(Model.maxBatch)") }
    }

    /// Throws `missingNetwork` when the file holds no generator (an encoder-only file): the
    /// check every face-generating call makes first, before sizing any buffer.
    public func requireGenerator() throws {
        _ = try checkedGenerator()
    }

    /// The generator, or the error `requireGenerator` throws.
    func checkedGenerator() throws -> Generator {
        guard let generator else {
            throw AVPGANError(.missingNetwork, "this model file holds only a voice encoder (networks: \(config.networks.map(\.rawValue).joined(separator: ", "))); generating faces needs a model with a generator (avpgan train writes one)")
        }
        return generator
    }

    /// Raw generator output `out[count, 3, S, S]` for `embeddings[count, embedDim]`.
    public func generate(embeddings: UnsafePointer<Float>, count: Int, embedDim: Int, into out: UnsafeMutablePointer<Float>) throws {
        let generator = try checkedGenerator()
        try checkEmbeddings(embeddings, count: count, embedDim: embedDim)
        try pool.with { try generator.generate(embeddings, count: count, workspace: $0, into: out) }
        try Model.checkOutput(out, count: count * imageFloats, what: "the generated images")
    }

    /// Faces as 8-bit RGB, `out[count, S, S, 3]`, for `embeddings[count, embedDim]`.
    public func generateRGB8(embeddings: UnsafePointer<Float>, count: Int, embedDim: Int, pixels: PixelMapping?,
                             into out: UnsafeMutablePointer<UInt8>) throws {
        try generateRGB8(try checkedGenerator(), embeddings: embeddings, count: count, embedDim: embedDim, pixels: pixels, into: out)
    }

    /// `generateRGB8` with this model's generator, already checked for (`checkedGenerator`).
    func generateRGB8(_ generator: Generator, embeddings: UnsafePointer<Float>, count: Int, embedDim: Int, pixels: PixelMapping?,
                      into out: UnsafeMutablePointer<UInt8>) throws {
        try checkEmbeddings(embeddings, count: count, embedDim: embedDim)
        let mapping = pixels ?? config.pixels
        let size = imageSize, floats = imageFloats
        try pool.with { workspace in
            // Generate chunk by chunk into a reused float buffer, then map to bytes.
            let chunk = generator.chunkSize
            let raw = try workspace.slot(4, count: chunk * floats)
            var start = 0
            while start < count {
                let b = min(chunk, count - start)
                try generator.generate(embeddings + start * embedDim, count: b, workspace: workspace, into: raw)
                try Model.checkOutput(raw, count: b * floats, what: "the generated images")
                for n in 0..<b { mapping.apply(raw + n * floats, size: size, into: out + (start + n) * floats) }
                start += b
            }
        }
    }

    /// Face-encoder embeddings `out[count, embedDim]` of `images[count, 3, S, S]` in [-1, 1].
    public func encodeFaces(images: UnsafePointer<Float>, count: Int, into out: UnsafeMutablePointer<Float>) throws {
        guard let faceEncoder else { throw AVPGANError(.missingNetwork, "the face encoder is not loaded (the file has none, or it was loaded inference-only)") }
        guard (1...Model.maxBatch).contains(count) else { throw AVPGANError.invalid("n is \(count), expected 1...\(Model.maxBatch)") }
        try Model.checkFinite(images, count: count * imageFloats, name: "images") { "element \($0)" }
        try pool.with { try faceEncoder.encode(images, count: count, workspace: $0, into: out) }
    }

    /// Discriminator logits `out[count]` and classifier logits `logits[count, identities]` of face
    /// embeddings `embeddings[count, embedDim]`.
    public func heads(embeddings: UnsafePointer<Float>, count: Int, realness: UnsafeMutablePointer<Float>,
                      identityLogits: UnsafeMutablePointer<Float>) throws {
        guard let discriminator, let classifier else {
            throw AVPGANError(.missingNetwork, "the discriminator and classifier are not loaded")
        }
        discriminator.forward(embeddings, batch: count, into: realness)
        classifier.forward(embeddings, batch: count, into: identityLogits)
    }

    private func checkEmbeddings(_ embeddings: UnsafePointer<Float>, count: Int, embedDim: Int) throws {
        try checkEmbeddingShape(count: count, embedDim: embedDim)
        try Model.checkFinite(embeddings, count: count * embedDim, name: "embeddings") { "embedding \($0 / embedDim), value \($0 % embedDim)" }
    }

    /// Throws `.modelFormat` when a network's output holds NaN or an infinity. The
    /// inputs were checked finite, so the cause is the model: weights that are finite but so
    /// large that float32 overflows. No call returns such a result with status OK.
    static func checkOutput(_ p: UnsafePointer<Float>, count: Int, what: String) throws {
        var sum: Float = 0
        for i in 0..<count { sum += p[i] * 0 }
        guard !sum.isFinite else { return }
        let i = (0..<count).first { !p[$0].isFinite } ?? 0
        throw AVPGANError.format("\(what) overflowed float32 (element \(i) is \(p[i])): the model holds finite but extreme weights")
    }

    public static func checkFinite(_ p: UnsafePointer<Float>, count: Int, name: String, at: (Int) -> String) throws {
        // Any non-finite value makes the sum non-finite; locate it only then.
        var sum: Float = 0
        for i in 0..<count { sum += p[i] * 0 }
        guard !sum.isFinite else { return }
        let i = (0..<count).first { !p[$0].isFinite } ?? 0
        throw AVPGANError.invalid("\(name) must be finite: \(at(i)) is \(p[i])")
    }
}
