/// A voice file to portrait PNG bytes: the one path shared by the C API and the CLI.
public enum PortraitFile {
    /// Decodes `voicePath`, makes the portrait, hands it to `inspect`, and returns the PNG.
    /// The file is decoded as it is read (only the 16 kHz samples are held, never the file's
    /// bytes) and hashed for the provenance in a second pass of 1 MiB reads.
    public static func render(model: Model, voicePath: String, options: PortraitOptions, provenance: Bool = true,
                              timestamp: Bool = false, inspect: (Portrait) throws -> Void = { _ in }) throws -> [UInt8] {
        let audio = try AudioDecoder.decode(path: voicePath, targetRate: FrontEnd.sampleRate)
        let portrait = try model.portrait(consume audio, options: options)
        try inspect(portrait)
        let hash = provenance ? try FileIO.sha256(voicePath) : ""
        return try model.png(of: portrait, options: options, audioSHA256: hash, provenance: provenance, timestamp: timestamp)
    }
}
