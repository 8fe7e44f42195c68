extension PortraitPipeline {
    /// A voice file to portrait PNG bytes: the one path shared by the C API and the CLI.
    /// Checks the options, decodes `voicePath`, makes the portrait, hands it to `inspect`, and
    /// returns the PNG (`png(of:audioSHA256:)`). The file is decoded and analysed as it is read
    /// (`FrontEnd.features(path:)`: only the features are held, never the samples or the file's
    /// bytes; reading stops once `seconds` are in; a recording with more than `Model.maxFrames`
    /// frames of voice fails as soon as it passes them) and, with provenance, hashed in a second
    /// pass of 1 MiB reads.
    public func png(voicePath: String, inspect: (Portrait) throws -> Void = { _ in }) throws -> [UInt8] {
        let portrait = try portrait {
            try FrontEnd.features(path: voicePath, options: options.frontEnd, frameLimit: Model.maxFrames)
        }
        try inspect(portrait)
        let hash = options.provenance ? try FileIO.sha256(voicePath) : ""
        return try png(of: portrait, audioSHA256: hash)
    }
}
