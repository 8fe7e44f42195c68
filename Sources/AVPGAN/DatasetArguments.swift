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

    /// `voices` (required), `faces` (nil: voices only), `testList` and `split` (an avpgan_split
    /// value); no list named holds out what the data set names itself (voices/../test.txt).
    static func index(voices: UnsafePointer<CChar>?, faces: UnsafePointer<CChar>?, required faceRequired: Bool,
                      testList: UnsafePointer<CChar>?, split: Int32) throws -> DatasetIndex {
        let voices = try string(voices, "params.voices_dir")
        let faces = faceRequired ? try string(faces, "params.faces_dir") : nil
        let list = try testList.map { try string($0, "params.test_list") }
        let initialLetter: Bool
        switch split {
        case Int32(AVPGAN_SPLIT_TEST_LIST.rawValue): initialLetter = false
        case Int32(AVPGAN_SPLIT_INITIAL_LETTER.rawValue):
            guard list == nil else {
                throw AVPGANError(.invalidArgument, "params.split is AVPGAN_SPLIT_INITIAL_LETTER, so params.test_list must be NULL")
            }
            initialLetter = true
        default: throw AVPGANError(.invalidArgument, "params.split is \(split), expected an avpgan_split value (0 or 1)")
        }
        let heldOut = list ?? (initialLetter ? nil : DatasetIndex.bundledTestList(voices: voices))
        return try DatasetIndex(voices: voices, faces: faces, testList: heldOut, initialLetterSplit: initialLetter)
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
