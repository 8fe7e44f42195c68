// Data/: training data. `DatasetIndex` (here) finds the voices and faces of a data set and its
// identity split (`VoxCelebMeta` reads vox1_meta.csv), `FaceImage` loads faces, `FeatureCache`
// keeps the front end's features, and the samplers (`BatchSampler`, `VoiceBatchSampler`) draw
// seeded batches that `BatchPrefetcher` prepares on a background thread (`BackgroundDraw`, the
// one-slot prefetch it shares with `EnhancerBatchPrefetcher`).

#if canImport(Glibc)
import Glibc
#endif

/// A voice-face data set in the VoxCeleb/VGGFace layout: `voices/<identity>/**/*.{wav,flac,
/// ogg,mp3,...}` and `faces/<identity>/**/*.{png,jpg}`, identities matched by folder name
/// (only those with both voices and faces are used), split into training, validation and test
/// identities, mutually exclusive: by a list file of test identities (no validation set), or by
/// the initial-letter rule of Nagrani et al.'s VoxCeleb/VGGFace split, which the paper follows
/// (folder names starting with A-B: validation, C-E: test, the rest: training; case-insensitive).
/// Labels are indices into the sorted training identities.
/// Without a faces folder (`faces: nil`, voice-encoder pre-training) every identity with voices
/// is used and `faces` lists are empty.
public struct DatasetIndex: Sendable {
    public struct Identity: Sendable, Equatable {
        public var name: String
        public var voices: [String]
        public var faces: [String]
    }

    public var train: [Identity]
    public var validation: [Identity] = []
    public var test: [Identity]

    /// Which split an identity falls in by the initial-letter rule.
    public static func initialLetterSplit(_ name: String) -> String {
        switch name.unicodeScalars.first.map({ Character($0).lowercased() }) {
        case "a", "b": return "validation"
        case "c", "d", "e": return "test"
        default: return "train"
        }
    }

    /// Recordings in any format the decoder reads, and `.npy` log-mel features as Voice2Face's
    /// preprocessing writes them (`[frames, 64]`, normalised; read by `FeatureCache`).
    public static let voiceExtensions: Set<String> = AudioDecoder.fileExtensions.union(["npy"])
    public static let faceExtensions: Set<String> = ["png", "jpg", "jpeg"]

    /// The held-out list a data set brings with it, `voices/../test.txt` (as `avpgan synth-data`
    /// writes it), when it is there: what a trainer holds out when it is told nothing else.
    public static func bundledTestList(voices: String) -> String? {
        let path = "\(voices)/../test.txt"
        return access(path, R_OK) == 0 ? path : nil
    }

    /// How identities are split into training and held-out sets.
    public enum SplitRule: Sendable, Equatable {
        /// Held out: the identities named in this text file (one per line); nil: none.
        case heldOutList(String?)
        /// The initial-letter rule of Nagrani et al. (`initialLetterSplit(_:)`).
        case initialLetter
        /// The corpus's own speaker split, the meta table's Set column: `test` held out,
        /// the rest trained. Needs a meta table.
        case corpusSet
    }

    /// Scans `voices` and `faces` (nil: voices only); `testList` names the held-out identities
    /// (one per line); `initialLetterSplit` splits by the initial-letter rule instead.
    public init(voices: String, faces: String?, testList: String? = nil, initialLetterSplit: Bool = false) throws {
        if initialLetterSplit && testList != nil {
            throw AVPGANError.invalid("give either a test-identity list or the initial-letter split, not both")
        }
        try self.init(voices: voices, faces: faces, split: initialLetterSplit ? .initialLetter : .heldOutList(testList))
    }

    /// Scans `voices` and `faces` (nil: voices only) and splits by `split`. With `meta` (the
    /// VoxCeleb layout), each voice folder is named by the face folder the table joins it to
    /// (`id10001` -> `A.J._Buckley`); voice folders the table does not list keep their own name.
    public init(voices: String, faces: String?, meta: VoxCelebMeta? = nil, split: SplitRule) throws {
        var voiceSets = try DatasetIndex.filesByIdentity(voices, extensions: DatasetIndex.voiceExtensions)
        if let meta {
            let names = meta.faceNameByVoiceID
            var renamed: [String: [String]] = [:]
            for (folder, files) in voiceSets { renamed[names[folder] ?? folder, default: []] += files }
            voiceSets = renamed.mapValues { $0.sorted() }
        }
        let faceSets = try faces.map { try DatasetIndex.filesByIdentity($0, extensions: DatasetIndex.faceExtensions) }
        var held = Set<String>()
        switch split {
        case .heldOutList(let list?):
            let text = String(decoding: try FileIO.read(list), as: UTF8.self)
            held = Set(text.split(whereSeparator: \.isNewline).map { String($0).trimmingWhitespace }.filter { !$0.isEmpty })
        case .corpusSet:
            guard let meta else { throw AVPGANError.invalid("the corpus's own split needs a meta table (vox1_meta.csv)") }
            held = meta.testNames
        case .heldOutList(nil), .initialLetter: break
        }
        var train: [Identity] = [], validation: [Identity] = [], test: [Identity] = []
        for name in voiceSets.keys.sorted() {
            let f = faceSets.map { $0[name] ?? [] } ?? []
            guard let v = voiceSets[name], !v.isEmpty, faceSets == nil || !f.isEmpty else { continue }
            let identity = Identity(name: name, voices: v, faces: f)
            switch split == .initialLetter ? DatasetIndex.initialLetterSplit(name) : (held.contains(name) ? "test" : "train") {
            case "test": test.append(identity)
            case "validation": validation.append(identity)
            default: train.append(identity)
            }
        }
        guard train.count >= 2 else {
            let what = faces.map { "with both voices and faces (\(voices), \($0))" } ?? "with voices (\(voices))"
            let joined = meta == nil ? "" : " after joining voice folders to face names through the meta table"
            throw AVPGANError.invalid("the data set has \(train.count) training identities \(what)\(joined); at least 2 are needed")
        }
        self.train = train
        self.validation = validation
        self.test = test
    }

    /// identity folder name -> its files with one of `extensions`, sorted, searched recursively.
    static func filesByIdentity(_ root: String, extensions: Set<String>) throws -> [String: [String]] {
        guard let dir = opendir(root) else { throw AVPGANError(.io, "cannot open '\(root)': \(FileIO.errorText())") }
        defer { closedir(dir) }
        var out: [String: [String]] = [:]
        for name in entries(dir) where isDirectory("\(root)/\(name)") {
            out[name] = walk("\(root)/\(name)", extensions: extensions)
        }
        return out
    }

    static func entries(_ dir: OpaquePointer) -> [String] {
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if !name.hasPrefix(".") { names.append(name) }
        }
        return names.sorted()
    }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    static func walk(_ path: String, extensions: Set<String>) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var out: [String] = []
        for name in entries(dir) {
            let full = "\(path)/\(name)"
            if isDirectory(full) {
                out += walk(full, extensions: extensions)
            } else if let dot = name.lastIndex(of: "."), extensions.contains(name[name.index(after: dot)...].lowercased()) {
                out.append(full)
            }
        }
        return out
    }
}
