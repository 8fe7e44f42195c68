/// A voice file to portrait PNG bytes: the one path shared by the C API and the CLI.
public enum PortraitFile {
    /// Decodes `voicePath`, makes the portrait, hands it to `inspect`, and returns the PNG.
    public static func render(model: Model, voicePath: String, options: PortraitOptions, provenance: Bool = true,
                              timestamp: Bool = false, inspect: (Portrait) throws -> Void = { _ in }) throws -> [UInt8] {
        let bytes = try FileIO.read(voicePath, limit: 4 << 30)
        let audio = try bytes.withUnsafeBytes { raw -> DecodedAudio in
            do {
                return try AudioDecoder.decode(bytes: raw, targetRate: FrontEnd.sampleRate)
            } catch let e as AVPGANError where e.kind == .audioFormat {
                throw AVPGANError(.audioFormat, e.message.replacingFirst("the audio buffer", with: "'\(voicePath)'"))
            }
        }
        let portrait = try model.portrait(audio, options: options)
        try inspect(portrait)
        return try model.png(of: portrait, options: options, audioSHA256: SHA256.hex(bytes), provenance: provenance, timestamp: timestamp)
    }
}
