import AVPGANCore
import CAVPGAN

// The arguments of the face-similarity functions (avpgan_face_similarity_evaluate, _recordings,
// _score), checked once, in one place, and the table's rows they fill.

private let similarityParamsSize = MemoryLayout<avpgan_face_similarity_params>.stride

let defaultSimilarityParams = avpgan_face_similarity_params(
    struct_size: similarityParamsSize, voices_dir: nil, faces_dir: nil, test_list: nil,
    split: Int32(AVPGAN_SPLIT_TEST_LIST.rawValue), eval_split: Int32(AVPGAN_EVAL_SPLIT_TEST.rawValue), identities: nil,
    seconds: nil, n_seconds: 0, model_labels: nil, face_model_label: nil, out_dir: nil, rows: 8,
    progress: nil, progress_user_data: nil, abort_fn: nil, abort_user_data: nil)

/// The default voice lengths of the face-similarity functions (as avpgan eval's).
private let defaultSeconds: [Double?] = [2, 4, 6, 8]

@_cdecl("avpgan_face_similarity_params_init")
public func avpgan_face_similarity_params_init(_ params: UnsafeMutablePointer<avpgan_face_similarity_params>?, _ size: Int) -> Int32 {
    ParamsInit.fill(params, size: size, defaults: defaultSimilarityParams, minimumSize: similarityParamsSize)
}

/// `seconds[0..<count]` (a params struct's seconds and n_seconds) as the core's lengths (nil:
/// the whole voiced recording); NULL and 0 are the defaults.
func evaluationLengths(_ seconds: UnsafePointer<Double>?, _ count: Int) throws -> [Double?] {
    try Argument.size(count, "params.n_seconds")
    if seconds == nil && count == 0 { return defaultSeconds }
    guard (1...64).contains(count) else { throw AVPGANError(.invalidArgument, "params.n_seconds is \(count), expected 1...64") }
    let values = Array(UnsafeBufferPointer(start: try Argument.require(seconds, "params.seconds"), count: count))
    return try values.enumerated().map { i, v in
        if v == 0 { return nil }
        guard v.isFinite, v > 0, v <= 3600 else {
            throw AVPGANError(.invalidArgument, "params.seconds[\(i)] is \(v), expected 0 (the whole recording) or a length in (0, 3600]")
        }
        return v
    }
}

/// A model handle that can make faces (a generator).
func generatorModel(_ handle: OpaquePointer?, _ name: String) throws -> Model {
    guard handle != nil else { throw AVPGANError(.invalidArgument, "\(name) is NULL") }
    let m = try modelFromHandle(handle)
    try m.requireGenerator()
    return m
}

/// The data-set part of avpgan_face_similarity_params: which identities are evaluated.
struct FaceSimilarityDataset {
    let p: avpgan_face_similarity_params
    let split: EvaluationSplit
    let names: [String]?

    init(_ params: UnsafePointer<avpgan_face_similarity_params>?) throws {
        p = try Argument.params(try Argument.require(params, "params"), defaults: defaultSimilarityParams,
                                minimumSize: similarityParamsSize, name: "params")
        split = try DatasetArguments.evalSplit(p.eval_split)
        names = try p.identities.map { try DatasetArguments.string($0, "params.identities") }
            .map { $0.split(separator: ",").map { String($0).trimmingWhitespace }.filter { !$0.isEmpty } }
    }

    /// Checks the folders' strings (cheap; the index is read by `identities()`).
    func checkFolders() throws {
        _ = try DatasetArguments.string(p.voices_dir, "params.voices_dir")
        _ = try DatasetArguments.string(p.faces_dir, "params.faces_dir")
    }

    /// The identities evaluated: params.identities, or the eval_split's; at least 2.
    func identities() throws -> [DatasetIndex.Identity] {
        let index = try DatasetArguments.index(voices: p.voices_dir, faces: p.faces_dir, required: true, testList: p.test_list, split: p.split)
        let identities = try names.map { try index.identities(named: $0, voices: String(cString: p.voices_dir), faces: String(cString: p.faces_dir)) }
            ?? index.identities(in: split)
        guard identities.count >= 2 else {
            throw AVPGANError(.invalidArgument, "\(identities.count) identities with voices and faces were chosen; the evaluation needs at least 2 (params.identities, params.eval_split)")
        }
        return identities
    }
}

/// Every argument of avpgan_face_similarity_evaluate and _score but the output buffer.
struct FaceSimilarityArguments {
    let loaded: [Model]
    let faceModel: FaceModel
    let dataset: FaceSimilarityDataset
    let seconds: [Double?]
    let labels: [String]
    let faceLabel: String
    let outDir: String?
    var p: avpgan_face_similarity_params { dataset.p }
    /// The rows the table takes: one per model and length, and the real faces'.
    var rowCount: Int { loaded.count * seconds.count + 1 }

    init(models: UnsafePointer<OpaquePointer?>?, count nModels: Int, faceModel faceHandle: OpaquePointer?,
         params: UnsafePointer<avpgan_face_similarity_params>?) throws {
        try Argument.size(nModels, "n_models")
        guard (1...64).contains(nModels) else { throw AVPGANError(.invalidArgument, "n_models is \(nModels), expected 1...64") }
        let handles = Array(UnsafeBufferPointer(start: try Argument.require(models, "models"), count: nModels))
        loaded = try handles.enumerated().map { try generatorModel($1, "models[\($0)]") }
        faceModel = try faceModelFromHandle(faceHandle)
        dataset = try FaceSimilarityDataset(params)
        let p = dataset.p
        seconds = try evaluationLengths(p.seconds, p.n_seconds)
        guard (1...10_000).contains(p.rows) else { throw AVPGANError(.invalidArgument, "params.rows is \(p.rows), expected 1...10000") }
        labels = try p.model_labels.map { list in
            try (0..<nModels).map { try DatasetArguments.string(list[$0], "params.model_labels[\($0)]") }
        } ?? (1...nModels).map { "model \($0)" }
        faceLabel = try p.face_model_label.map { try DatasetArguments.string($0, "params.face_model_label") } ?? "face model"
        outDir = try p.out_dir.map { try DatasetArguments.string($0, "params.out_dir") }
        try dataset.checkFolders()
    }

    func identities() throws -> [DatasetIndex.Identity] { try dataset.identities() }

    /// Writes the report files (params.out_dir) and fills `rows` (rowCount of them).
    func finish(_ report: FaceSimilarityReport, into rows: UnsafeMutablePointer<avpgan_face_similarity>) throws {
        if let outDir { try report.write(to: outDir, rows: Int(p.rows)) }
        let nModels = loaded.count
        /// One row; a measure with nothing to average becomes 0 with its `unavailable` bit.
        func row(_ m: Int, _ s: Double?, _ x: FaceSimilarityEvaluation.Summary) -> avpgan_face_similarity {
            var missing: UInt32 = 0
            func finite(_ v: Double, _ bit: avpgan_face_similarity_unavailable) -> Double {
                if v.isFinite { return v }
                missing |= bit.rawValue
                return 0
            }
            let voiced = finite(m == nModels ? .nan : x.voicedSeconds, AVPGAN_FACE_SIMILARITY_NO_VOICED_SECONDS)
            let own = finite(x.own, AVPGAN_FACE_SIMILARITY_NO_OWN), impostor = finite(x.impostor, AVPGAN_FACE_SIMILARITY_NO_IMPOSTOR)
            let difference = finite(x.difference, AVPGAN_FACE_SIMILARITY_NO_DIFFERENCE)
            let low = finite(x.differenceLow, AVPGAN_FACE_SIMILARITY_NO_INTERVAL), high = finite(x.differenceHigh, AVPGAN_FACE_SIMILARITY_NO_INTERVAL)
            return avpgan_face_similarity(
                model_index: UInt32(m), n_recordings: UInt32(x.recordings), n_identities: UInt32(x.identities), unavailable: missing,
                seconds: s ?? 0, voiced_seconds: voiced, own: own, impostor: impostor, difference: difference,
                difference_low: low, difference_high: high, top1: x.top1, top5: x.top5)
        }
        var out: [avpgan_face_similarity] = []
        for (m, result) in report.results.enumerated() {
            for (l, s) in result.summaries.enumerated() { out.append(row(m, seconds[l], s)) }
        }
        out.append(row(nModels, nil, report.reference))
        rows.update(from: out, count: out.count)
    }
}
