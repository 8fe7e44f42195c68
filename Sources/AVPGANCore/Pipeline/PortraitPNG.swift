#if canImport(Glibc)
import Glibc
#endif

/// The notice every portrait PNG carries.
public let portraitNotice = "Synthetic image generated from a voice recording; not a photograph of the speaker"

extension PortraitPipeline {
    /// The PNG of `portrait`, with provenance text chunks unless `options.provenance` is false:
    /// software and version, model and audio SHA-256, every parameter, the voiced duration,
    /// the enhancer's SHA-256 and file size when there is one, and the notice. The same input
    /// gives the same bytes unless `options.timestamp` adds the creation time.
    public func png(of portrait: Portrait, audioSHA256: String) throws -> [UInt8] {
        var text: [(String, String)] = []
        if options.provenance {
            let f = portrait.features
            text = [
                ("Software", "libavpgan \(LibraryVersion.string)"),
                ("Description", portraitNotice),
                ("avpgan:model-sha256", model.sha256),
                ("avpgan:model", "\(model.config.arch.rawValue) embed_dim=\(model.embedDim) image_size=\(model.imageSize)"),
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
        if options.timestamp { text.append(("Creation Time", PortraitPipeline.utcNow())) }
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
