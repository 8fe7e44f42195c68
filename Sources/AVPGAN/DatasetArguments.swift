import AVPGANCore
import CAVPGAN

/// The data-set fields shared by the trainer, evaluation and voice-training params: folders, the
/// held-out list and the split rule, checked and turned into a `DatasetIndex`.
enum DatasetArguments {
    /// A non-empty string argument.
    static func string(_ pointer: UnsafePointer<CChar>?, _ name: String) throws -> String {
        let s = String(cString: try Argument.require(pointer, name))
        guard !s.isEmpty else { throw AVPGANError(.invalidArgument, "\(name) is an empty string") }
        return s
    }

    /// `voices` (required), `faces` (nil: voices only), `testList`, `split` (an avpgan_split
    /// value) and `meta` (VoxCeleb's vox1_meta.csv, joining voice folders to face folders); no
    /// list named holds out what the data set names itself (voices/../test.txt).
    /// An optional path: nil for NULL, else as `string` (an empty one is refused).
    static func optionalString(_ pointer: UnsafePointer<CChar>?, _ name: String) throws -> String? {
        guard pointer != nil else { return nil }
        return try string(pointer, name)
    }

    static func index(voices: UnsafePointer<CChar>?, faces: UnsafePointer<CChar>?, required faceRequired: Bool,
                      testList: UnsafePointer<CChar>?, split: Int32, meta: UnsafePointer<CChar>? = nil) throws -> DatasetIndex {
        let voices = try string(voices, "params.voices_dir")
        let faces = faceRequired ? try string(faces, "params.faces_dir") : nil
        let list = try testList.map { try string($0, "params.test_list") }
        let table = try meta.map { try VoxCelebMeta(path: try string($0, "params.meta_file")) }
        let rule: DatasetIndex.SplitRule
        switch split {
        case Int32(AVPGAN_SPLIT_TEST_LIST.rawValue):
            rule = .heldOutList(list ?? DatasetIndex.bundledTestList(voices: voices))
        case Int32(AVPGAN_SPLIT_INITIAL_LETTER.rawValue), Int32(AVPGAN_SPLIT_CORPUS_SET.rawValue):
            let corpus = split == Int32(AVPGAN_SPLIT_CORPUS_SET.rawValue)
            let name = corpus ? "AVPGAN_SPLIT_CORPUS_SET" : "AVPGAN_SPLIT_INITIAL_LETTER"
            guard list == nil else {
                throw AVPGANError(.invalidArgument, "params.split is \(name), so params.test_list must be NULL")
            }
            if corpus && table == nil {
                throw AVPGANError(.invalidArgument, "params.split is AVPGAN_SPLIT_CORPUS_SET, which needs params.meta_file (the table's Set column)")
            }
            rule = corpus ? .corpusSet : .initialLetter
        default: throw AVPGANError(.invalidArgument, "params.split is \(split), expected an avpgan_split value (0, 1 or 2)")
        }
        return try DatasetIndex(voices: voices, faces: faces, meta: table, split: rule)
    }

    /// The feature cache in `params.cache_dir`; NULL is an error, or with `orDefault` the
    /// user's cache (`FeatureCache.defaultDirectory`, as the avpgan command's).
    static func cache(_ pointer: UnsafePointer<CChar>?, orDefault: Bool = false) throws -> FeatureCache {
        guard pointer != nil else {
            guard orDefault else { throw AVPGANError(.invalidArgument, "params.cache_dir is NULL; a data set needs a feature-cache directory") }
            return try FeatureCache(directory: FeatureCache.defaultDirectory)
        }
        return try FeatureCache(directory: try string(pointer, "params.cache_dir"))
    }

    /// An avpgan_eval_split value.
    static func evalSplit(_ code: Int32) throws -> EvaluationSplit {
        switch code {
        case Int32(AVPGAN_EVAL_SPLIT_TEST.rawValue): return .test
        case Int32(AVPGAN_EVAL_SPLIT_VALIDATION.rawValue): return .validation
        case Int32(AVPGAN_EVAL_SPLIT_TRAIN.rawValue): return .train
        case Int32(AVPGAN_EVAL_SPLIT_ALL.rawValue): return .all
        default: throw AVPGANError(.invalidArgument, "params.eval_split is \(code), expected an avpgan_eval_split value (0-3)")
        }
    }
}
