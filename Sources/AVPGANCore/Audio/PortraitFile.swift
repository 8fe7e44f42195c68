/// A voice file to portrait PNG bytes: the one path shared by the C API and the CLI.
public enum PortraitFile {
    /// Decodes `voicePath`, makes the portrait, hands it to `inspect`, and returns the PNG.
    /// The file is decoded and analysed as it is read (`FrontEnd.features(path:)`: only the
    /// features are held, never the samples or the file's bytes; reading stops once `seconds`
    /// are in; a recording with more than `Model.maxFrames` frames of voice fails as soon as it
    /// passes them) and hashed for the provenance in a second pass of 1 MiB reads.
    public static func render(model: Model, voicePath: String, options: PortraitOptions, provenance: Bool = true,
                              timestamp: Bool = false, inspect: (Portrait) throws -> Void = { _ in }) throws -> [UInt8] {
        try model.checkPortrait(options)
        let features = try FrontEnd.features(path: voicePath, options: options.frontEnd, frameLimit: Model.maxFrames)
        let portrait = try model.portrait(features: features, options: options)
        try inspect(portrait)
        let hash = provenance ? try FileIO.sha256(voicePath) : ""
        return try model.png(of: portrait, options: options, audioSHA256: hash, provenance: provenance, timestamp: timestamp)
    }
}
