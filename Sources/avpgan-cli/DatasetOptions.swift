import AVPGANCore
#if canImport(Glibc)
import Glibc
#endif

/// The data-set options that train, train-voice, eval and pixel-retrieval share: the identities
/// (`--voices`, `--faces`, `--meta`, `--split-rule`, `--test-list`) and what the ranks of a
/// data-parallel run must agree on.
enum DatasetOptions {
    /// `path` when it is a readable file, else nil.
    static func existing(_ path: String) -> String? { access(path, R_OK) == 0 ? path : nil }

    /// What must be the same on every rank of a data-parallel run besides the trainer's own
    /// state: the command line and the data set as each rank sees it.
    static func fingerprint(_ index: DatasetIndex) -> String {
        var parts = CommandLine.arguments
        for (split, identities) in [("train", index.train), ("validation", index.validation), ("test", index.test)] {
            for i in identities { parts.append("\(split):\(i.name):\(i.voices.joined(separator: ",")):\(i.faces.joined(separator: ","))") }
        }
        return parts.joined(separator: "\u{1}")
    }

    /// The data set's identities: joined through `--meta` when given (the VoxCeleb layout), split
    /// by `--split-rule`, by `--test-list F`, or by the data set's own `VOICES/../test.txt`; with
    /// `--meta` and no list, by the paper's initial-letter rule.
    static func index(_ o: Options, voices: String, faces: String?) throws -> DatasetIndex {
        let meta = try o.values["--meta"].map { try VoxCelebMeta(path: $0) }
        let list = o.values["--test-list"]
        let rule: DatasetIndex.SplitRule
        switch o.values["--split-rule"] ?? (meta != nil && list == nil ? "initial-letter" : nil) {
        case nil: rule = .heldOutList(list ?? existing("\(voices)/../test.txt"))
        case let named?:
            guard list == nil else { fail("--split-rule and --test-list exclude each other", code: 2) }
            switch named {
            case "initial-letter": rule = .initialLetter
            case "corpus-set":
                guard meta != nil else { fail("--split-rule corpus-set needs --meta (the table's Set column)", code: 2) }
                rule = .corpusSet
            default: fail("--split-rule takes initial-letter or corpus-set, got '\(named)'", code: 2)
            }
        }
        return try DatasetIndex(voices: voices, faces: faces, meta: meta, split: rule)
    }
}
