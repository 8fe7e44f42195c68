extension AudioDecoder {
    /// File name extensions (lower case, no dot) of the recordings a folder walk picks up:
    /// the containers libsndfile reads (WAV, RF64, W64, FLAC, Ogg Vorbis/Opus, MP3, AIFF,
    /// Sun .au, Apple .caf). One list for portrait batches and training data sets alike.
    public static let fileExtensions: Set<String> = ["wav", "flac", "ogg", "oga", "opus", "mp3", "aiff", "aif", "au", "caf", "w64", "rf64"]
}
