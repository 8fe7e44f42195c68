#if canImport(Glibc)
import Glibc
#endif

/// Options of a portrait beyond the front end's.
public struct PortraitOptions: Sendable {
    public var frontEnd: FrontEndOptions
    /// nil = the model's default.
    public var pixels: PixelMapping?
    /// Standard deviation of Gaussian noise added to the unit embedding before re-normalising
    /// (0 = none); `seed` makes it repeatable.
    public var noise: Float
    public var seed: UInt64
    /// Restores and enlarges the generator's 8-bit face to the enhancer's size (as
    /// `Enhancer.enhanceRGB8` does with any picture); nil = the generator's face as it is.
    public var enhancer: Enhancer?

    public init(frontEnd: FrontEndOptions = FrontEndOptions(), pixels: PixelMapping? = nil, noise: Float = 0, seed: UInt64 = 0,
                enhancer: Enhancer? = nil) {
        self.frontEnd = frontEnd
        self.pixels = pixels
        self.noise = noise
        self.seed = seed
        self.enhancer = enhancer
    }
}

/// A generated face and what it came from.
public struct Portrait: Sendable {
    /// `size x size x 3` RGB8.
    public var pixels: [UInt8]
    public var size: Int
    public var embedding: [Float]
    public var features: VoiceFeatures
    public var mapping: PixelMapping
}

/// The notice every portrait PNG carries.
public let portraitNotice = "Synthetic image generated from a voice recording; not a photograph of the speaker"

extension Model {
    /// Recording (16 kHz, int16 scale) -> features -> embedding (+ optional noise) -> face.
    /// Taking the recording (`consume` it) lets the front end work in its memory (FrontEnd.features).
    public func portrait(_ audio: consuming DecodedAudio, options: PortraitOptions = PortraitOptions()) throws -> Portrait {
        try checkPortrait(options)
        return try portrait(features: try FrontEnd.features(consume audio, options: options.frontEnd), options: options)
    }

    /// The checks every portrait makes before it reads any audio: a generator, noise in 0...10.
    public func checkPortrait(_ options: PortraitOptions) throws {
        try requireGenerator()
        guard options.noise.isFinite, options.noise >= 0, options.noise <= 10 else {
            throw AVPGANError.invalid("noise is \(options.noise), expected 0...10")
        }
    }

    /// Features (from `FrontEnd`, made with `options.frontEnd`) -> embedding (+ optional noise) -> face.
    public func portrait(features: VoiceFeatures, options: PortraitOptions = PortraitOptions()) throws -> Portrait {
        try checkPortrait(options)
        var embedding = [Float](repeating: 0, count: embedDim)
        try embed(features: features.values, frames: features.frames, melBands: config.nMels, into: &embedding)
        if options.noise > 0 {
            // As training does: normalise(normalise(e) + noise * N(0, 1)).
            let n = SeededEmbedding.gaussians(seed: options.seed, count: embedDim)
            for i in embedding.indices { embedding[i] += options.noise * n[i] }
            embedding.withUnsafeMutableBufferPointer { Reductions.l2Normalize($0.baseAddress!, count: embedDim) }
        }
        let mapping = options.pixels ?? config.pixels
        var pixels = [UInt8](repeating: 0, count: imageFloats)
        try generateRGB8(embeddings: embedding, count: 1, embedDim: embedDim, pixels: mapping, into: &pixels)
        guard let enhancer = options.enhancer else {
            return Portrait(pixels: pixels, size: imageSize, embedding: embedding, features: features, mapping: mapping)
        }
        var enhanced = [UInt8](repeating: 0, count: 3 * enhancer.size * enhancer.size)
        try enhancer.enhanceRGB8(pixels, width: imageSize, height: imageSize, rowStride: 3 * imageSize, into: &enhanced)
        return Portrait(pixels: enhanced, size: enhancer.size, embedding: embedding, features: features, mapping: mapping)
    }

    /// The PNG of `portrait`, with provenance text chunks unless `provenance` is false:
    /// software and version, model and audio SHA-256, every parameter, the voiced duration,
    /// the enhancer's SHA-256 and file size when there is one, and the notice. Deterministic unless `timestamp` adds the creation time.
    public func png(of portrait: Portrait, options: PortraitOptions, audioSHA256: String,
                    provenance: Bool = true, timestamp: Bool = false) throws -> [UInt8] {
        var text: [(String, String)] = []
        if provenance {
            let f = portrait.features
            text = [
                ("Software", "libavpgan \(LibraryVersion.string)"),
                ("Description", portraitNotice),
                ("avpgan:model-sha256", sha256),
                ("avpgan:model", "\(config.arch.rawValue) embed_dim=\(embedDim) image_size=\(imageSize)"),
                ("avpgan:audio-sha256", audioSHA256),
                ("avpgan:parameters", "\(options.frontEnd.summary) pixels=\(portrait.mapping.rawValue) noise=\(options.noise) seed=\(options.seed)"),
                ("avpgan:voiced-seconds", "\(f.voicedSeconds)"),
                ("avpgan:input-seconds", "\(f.inputSeconds)"),
                ("avpgan:frames", "\(f.frames)"),
            ]
            if let e = options.enhancer {
                text.append(("avpgan:enhancer-sha256", e.sha256))
                text.append(("avpgan:enhancer", "\(EnhancerConfig.archName) size=\(e.size) file-bytes=\(e.fileBytes)"))
            }
        }
        if timestamp { text.append(("Creation Time", Model.utcNow())) }
        return try portrait.pixels.withUnsafeBufferPointer {
            try PNGCodec.encodeRGB8($0.baseAddress!, width: portrait.size, height: portrait.size, text: text)
        }
    }

    /// The current time as ISO 8601 UTC.
    static func utcNow() -> String {
        var t = time(nil)
        var parts = tm()
        gmtime_r(&t, &parts)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }
}
