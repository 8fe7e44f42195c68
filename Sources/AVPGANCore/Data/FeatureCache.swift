#if canImport(Glibc)
import Glibc
#endif

/// Voice features computed once through the front end and kept on disk, so that training reads
/// `.npy` files instead of decoding audio every epoch. Each entry is written atomically
/// (temporary file + rename), so a run stopped part-way leaves only complete entries and the
/// next run computes just the missing ones. The key covers the audio file's path, size and
/// modification time and the front-end options, so a changed recording is recomputed.
public struct FeatureCache: Sendable {
    public let directory: String
    public let options: FrontEndOptions

    public init(directory: String, options: FrontEndOptions = FrontEndOptions()) throws {
        // Make the folder and any missing parents (the default lives under ~/.cache).
        var prefix = directory.hasPrefix("/") ? "" : "."
        for part in directory.split(separator: "/") {
            prefix += "/" + part
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw AVPGANError(.io, "cannot create cache '\(directory)': \(FileIO.errorText())")
            }
        }
        self.directory = directory
        self.options = options
    }

    /// The user's feature cache, shared by every run (entries are keyed by recording and
    /// front-end settings, so sharing is safe): `$XDG_CACHE_HOME/avpgan/features`, else
    /// `$HOME/.cache/avpgan/features`, else `/tmp/avpgan-<uid>/features`.
    public static var defaultDirectory: String {
        func variable(_ name: String) -> String? {
            guard let v = getenv(name).map({ String(cString: $0) }), v.hasPrefix("/") else { return nil }
            return v
        }
        if let xdg = variable("XDG_CACHE_HOME") { return "\(xdg)/avpgan/features" }
        if let home = variable("HOME") { return "\(home)/.cache/avpgan/features" }
        return "/tmp/avpgan-\(getuid())/features"
    }

    /// The cache file for `audio`.
    func entryPath(_ audio: String) throws -> String {
        var st = stat()
        guard stat(audio, &st) == 0 else { throw AVPGANError(.io, "cannot stat '\(audio)': \(FileIO.errorText())") }
        let key = "\(audio)|\(st.st_size)|\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)|\(options.summary)"
        return "\(directory)/\(SHA256.hex(Array(key.utf8)).prefix(32)).npy"
    }

    /// The computed frames (before the repeat-to-1000 rule, `[frames, 64]`) of `audio`, from
    /// the cache or computed and stored.
    /// A `.npy` recording is taken as already computed features (Voice2Face's `fbank` files)
    /// and read as it is, not cached.
    public func features(_ audio: String) throws -> (values: [Float], frames: Int) {
        if audio.lowercased().hasSuffix(".npy") { return try FeatureCache.precomputed(audio) }
        let path = try entryPath(audio)
        if access(path, R_OK) == 0, let (values, shape) = try? NPY.read(try FileIO.read(path), name: path),
           shape.count == 2, shape[1] == LogMelExtractor.bands, shape[0] > 0 {
            return (values, shape[0])
        }
        let decoded = try AudioDecoder.decode(path: audio, targetRate: FrontEnd.sampleRate)
        let f = try FrontEnd.features(decoded, options: options)
        // Keep the computed frames only; crops are taken from real frames, not repetitions.
        let frames = f.computedFrames
        let values = Array(f.values.prefix(frames * LogMelExtractor.bands))
        try FileIO.write(NPY.write(values, shape: [frames, LogMelExtractor.bands]), to: path)
        return (values, frames)
    }

    /// Features computed elsewhere with the same front end, as Voice2Face's preprocessing stores
    /// them: a `.npy` of `[frames, 64]` float32 or float64, normalised per band. Checked: the
    /// shape, at least one frame, every value finite.
    public static func precomputed(_ path: String) throws -> (values: [Float], frames: Int) {
        let (values, shape) = try NPY.read(try FileIO.read(path), name: path)
        guard shape.count == 2, shape[1] == LogMelExtractor.bands, shape[0] > 0 else {
            throw AVPGANError.invalid("'\(path)' holds an array of shape \(shape); precomputed voice features are [frames, \(LogMelExtractor.bands)] with frames > 0")
        }
        guard values.allSatisfy({ $0.isFinite }) else {
            throw AVPGANError.invalid("'\(path)' holds a value that is not finite; precomputed voice features must be finite")
        }
        return (values, shape[0])
    }
}
