// Pipeline/: how a recording becomes a face, in the order it travels. `PortraitFile` decodes a
// voice file and makes its features (`Audio/`, `FrontEnd`); `PortraitPipeline` embeds them
// (`Networks/VoiceEncoder`), generates the face (`Networks/Generator`, then the pixel mapping)
// and enhances it (`Enhancement/Enhancer`); `PortraitPNG` encodes it with its provenance
// (`Image/PNGCodec`). Each stage lives in its own folder; this one only orchestrates them, for
// the C API, the CLI and the evaluations alike. `PortraitOptions` is all a portrait is asked for.

/// One model and one set of options, checked once, that turns features into faces: features
/// -> embedding (+ optional noise) -> generated face -> optional enhancement. The model is
/// checked for a generator when the pipeline is made; the options are checked by each
/// portrait before it reads any audio. Safe to use from many threads at once (as `Model` is:
/// the generator it holds is the model's, immutable after load).
public struct PortraitPipeline: @unchecked Sendable {
    public let model: Model
    /// Options may change after the pipeline is made (the CLI loads its enhancer after checking
    /// the model); each portrait checks them.
    public var options: PortraitOptions
    private let generator: Generator

    /// Throws `missingNetwork` when the model file holds no generator (an encoder-only file).
    public init(model: Model, options: PortraitOptions = PortraitOptions()) throws {
        self.model = model
        self.options = options
        generator = try model.checkedGenerator()
    }

    /// The side of the faces this pipeline makes: the enhancer's, or the generator's.
    public var imageSize: Int { options.enhancer?.size ?? model.imageSize }

    /// Recording (16 kHz, int16 scale) -> features -> face. Taking the recording (`consume` it)
    /// lets the front end work in its memory (FrontEnd.features).
    public func portrait(_ audio: consuming DecodedAudio) throws -> Portrait {
        try options.check()
        return try face(of: try FrontEnd.features(consume audio, options: options.frontEnd))
    }

    /// Features (from `FrontEnd`, made with `options.frontEnd`) -> face.
    public func portrait(features: VoiceFeatures) throws -> Portrait {
        try portrait { features }
    }

    /// The options are checked, then `features` is called (it decodes and analyses the audio
    /// with `options.frontEnd`), then the face is made.
    public func portrait(reading features: () throws -> VoiceFeatures) throws -> Portrait {
        try options.check()
        return try face(of: try features())
    }

    /// embed -> noise -> generate -> enhance, on checked options.
    func face(of features: VoiceFeatures) throws -> Portrait {
        let embedDim = model.embedDim
        var embedding = [Float](repeating: 0, count: embedDim)
        try model.embed(features: features.values, frames: features.frames, melBands: model.config.nMels, into: &embedding)
        if options.noise > 0 {
            // As training does: normalise(normalise(e) + noise * N(0, 1)).
            let n = SeededEmbedding.gaussians(seed: options.seed, count: embedDim)
            for i in embedding.indices { embedding[i] += options.noise * n[i] }
            embedding.withUnsafeMutableBufferPointer { Reductions.l2Normalize($0.baseAddress!, count: embedDim) }
        }
        let mapping = options.pixels ?? model.config.pixels
        var pixels = [UInt8](repeating: 0, count: model.imageFloats)
        try model.generateRGB8(generator, embeddings: embedding, count: 1, embedDim: embedDim, pixels: mapping, into: &pixels)
        guard let enhancer = options.enhancer else {
            return Portrait(pixels: pixels, size: model.imageSize, embedding: embedding, features: features, mapping: mapping)
        }
        var enhanced = [UInt8](repeating: 0, count: 3 * enhancer.size * enhancer.size)
        try enhancer.enhanceRGB8(pixels, width: model.imageSize, height: model.imageSize, rowStride: 3 * model.imageSize, into: &enhanced)
        return Portrait(pixels: enhanced, size: enhancer.size, embedding: embedding, features: features, mapping: mapping)
    }
}

extension Model {
    /// `PortraitPipeline(model: self, options: options).portrait(audio)`.
    public func portrait(_ audio: consuming DecodedAudio, options: PortraitOptions = PortraitOptions()) throws -> Portrait {
        try PortraitPipeline(model: self, options: options).portrait(consume audio)
    }

    /// `PortraitPipeline(model: self, options: options).portrait(features:)`.
    public func portrait(features: VoiceFeatures, options: PortraitOptions = PortraitOptions()) throws -> Portrait {
        try PortraitPipeline(model: self, options: options).portrait(features: features)
    }
}
