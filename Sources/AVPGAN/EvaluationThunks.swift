import AVPGANCore
import CAVPGAN

// Evaluation entry points: pixel retrieval and face similarity (avpgan pixel-retrieval, eval).

private let retrievalParamsSize = MemoryLayout<avpgan_pixel_retrieval_params>.stride
private let retrievalResultSize = MemoryLayout<avpgan_pixel_retrieval_result>.stride
private let similarityParamsSize = MemoryLayout<avpgan_face_similarity_params>.stride

private let defaultRetrievalParams = avpgan_pixel_retrieval_params(
    struct_size: retrievalParamsSize, voices_dir: nil, faces_dir: nil, test_list: nil,
    split: Int32(AVPGAN_SPLIT_TEST_LIST.rawValue), eval_split: Int32(AVPGAN_EVAL_SPLIT_TEST.rawValue), cache_dir: nil,
    grid_png: nil, progress: nil, progress_user_data: nil, abort_fn: nil, abort_user_data: nil)

private let defaultSimilarityParams = avpgan_face_similarity_params(
    struct_size: similarityParamsSize, voices_dir: nil, faces_dir: nil, test_list: nil,
    split: Int32(AVPGAN_SPLIT_TEST_LIST.rawValue), eval_split: Int32(AVPGAN_EVAL_SPLIT_TEST.rawValue), identities: nil,
    seconds: nil, n_seconds: 0, model_labels: nil, face_model_label: nil, out_dir: nil, rows: 8,
    progress: nil, progress_user_data: nil, abort_fn: nil, abort_user_data: nil)

/// The default voice lengths of avpgan_face_similarity_evaluate (as avpgan eval's).
private let defaultSeconds: [Double?] = [2, 4, 6, 8]

/// An abort callback as a core `shouldStop`.
func stopAsker(_ fn: avpgan_abort_fn?, _ user: UnsafeMutableRawPointer?) -> () -> Bool {
    { fn.map { $0(user) != 0 } ?? false }
}

/// A progress callback as a core progress closure.
func progressReporter(_ fn: avpgan_progress_fn?, _ user: UnsafeMutableRawPointer?) -> (Int, Int) -> Void {
    { done, total in fn?(UInt64(done), UInt64(total), user) }
}

@_cdecl("avpgan_pixel_retrieval_params_init")
public func avpgan_pixel_retrieval_params_init(_ params: UnsafeMutablePointer<avpgan_pixel_retrieval_params>?, _ size: Int) -> Int32 {
    ParamsInit.fill(params, size: size, defaults: defaultRetrievalParams, minimumSize: retrievalParamsSize)
}

@_cdecl("avpgan_pixel_retrieval_evaluate")
public func avpgan_pixel_retrieval_evaluate(_ handle: OpaquePointer?, _ params: UnsafePointer<avpgan_pixel_retrieval_params>?,
                                            _ result: UnsafeMutablePointer<avpgan_pixel_retrieval_result>?) -> Int32 {
    CallBoundary.run {
        let model = try modelFromHandle(handle)
        let result = try Argument.require(result, "result")
        try Argument.structSize(result.pointee.struct_size, minimum: retrievalResultSize, name: "result")
        let p = try Argument.params(try Argument.require(params, "params"), defaults: defaultRetrievalParams,
                                    minimumSize: retrievalParamsSize, name: "params")
        let split = try DatasetArguments.evalSplit(p.eval_split)
        let grid = try p.grid_png.map { try DatasetArguments.string($0, "params.grid_png") }
        let cache = try DatasetArguments.cache(p.cache_dir, orDefault: true)
        let index = try DatasetArguments.index(voices: p.voices_dir, faces: p.faces_dir, required: true, testList: p.test_list, split: p.split)
        let identities = index.identities(in: split)
        guard identities.count >= 2 else {
            throw AVPGANError(.invalidArgument, "the \(split.rawValue) identities number \(identities.count); retrieval needs at least 2 with voices and faces (params.eval_split, params.test_list)")
        }
        let e = try PixelRetrievalEvaluation(model: model, identities: identities, cache: cache,
                                             progress: progressReporter(p.progress, p.progress_user_data),
                                             shouldStop: stopAsker(p.abort_fn, p.abort_user_data))
        if let grid { try FileIO.write(try e.gridPNG(), to: grid) }
        let g = e.generated, r = e.realPictures
        let full = avpgan_pixel_retrieval_result(
            struct_size: retrievalResultSize, n_identities: UInt32(identities.count), n_recordings: UInt32(e.recordings),
            top1: g.top1, top5: g.top5, mean_rank: g.meanRank, chance_top1: g.chanceTop1, chance_top5: g.chanceTop5,
            chance_mean_rank: g.chanceMeanRank, real_top1: r.top1, real_top5: r.top5, real_mean_rank: r.meanRank)
        try Argument.fill(result, with: full, size: result.pointee.struct_size, minimumSize: retrievalResultSize, name: "result")
    }
}

@_cdecl("avpgan_face_similarity_params_init")
public func avpgan_face_similarity_params_init(_ params: UnsafeMutablePointer<avpgan_face_similarity_params>?, _ size: Int) -> Int32 {
    ParamsInit.fill(params, size: size, defaults: defaultSimilarityParams, minimumSize: similarityParamsSize)
}

/// params.seconds as the core's lengths (nil: the whole voiced recording).
private func lengths(_ p: avpgan_face_similarity_params) throws -> [Double?] {
    try Argument.size(p.n_seconds, "params.n_seconds")
    if p.seconds == nil && p.n_seconds == 0 { return defaultSeconds }
    guard (1...64).contains(p.n_seconds) else { throw AVPGANError(.invalidArgument, "params.n_seconds is \(p.n_seconds), expected 1...64") }
    let values = Array(UnsafeBufferPointer(start: try Argument.require(p.seconds, "params.seconds"), count: p.n_seconds))
    return try values.enumerated().map { i, v in
        if v == 0 { return nil }
        guard v.isFinite, v > 0, v <= 3600 else {
            throw AVPGANError(.invalidArgument, "params.seconds[\(i)] is \(v), expected 0 (the whole recording) or a length in (0, 3600]")
        }
        return v
    }
}

@_cdecl("avpgan_face_similarity_evaluate")
public func avpgan_face_similarity_evaluate(_ models: UnsafePointer<OpaquePointer?>?, _ nModels: Int, _ faceHandle: OpaquePointer?,
                                            _ params: UnsafePointer<avpgan_face_similarity_params>?,
                                            _ rows: UnsafeMutablePointer<avpgan_face_similarity>?, _ capacity: Int,
                                            _ needed: UnsafeMutablePointer<Int>?) -> Int32 {
    CallBoundary.run {
        try Argument.size(nModels, "n_models")
        guard (1...64).contains(nModels) else { throw AVPGANError(.invalidArgument, "n_models is \(nModels), expected 1...64") }
        let handles = Array(UnsafeBufferPointer(start: try Argument.require(models, "models"), count: nModels))
        let loaded = try handles.enumerated().map { i, h in
            guard h != nil else { throw AVPGANError(.invalidArgument, "models[\(i)] is NULL") }
            let m = try modelFromHandle(h)
            try m.requireGenerator()
            return m
        }
        let faceModel = try faceModelFromHandle(faceHandle)
        let p = try Argument.params(try Argument.require(params, "params"), defaults: defaultSimilarityParams,
                                    minimumSize: similarityParamsSize, name: "params")
        let seconds = try lengths(p)
        let split = try DatasetArguments.evalSplit(p.eval_split)
        guard (1...10_000).contains(p.rows) else { throw AVPGANError(.invalidArgument, "params.rows is \(p.rows), expected 1...10000") }
        let labels = try p.model_labels.map { list in
            try (0..<nModels).map { try DatasetArguments.string(list[$0], "params.model_labels[\($0)]") }
        } ?? (1...nModels).map { "model \($0)" }
        let faceLabel = try p.face_model_label.map { try DatasetArguments.string($0, "params.face_model_label") } ?? "face model"
        let outDir = try p.out_dir.map { try DatasetArguments.string($0, "params.out_dir") }
        let names = try p.identities.map { try DatasetArguments.string($0, "params.identities") }
            .map { $0.split(separator: ",").map { String($0).trimmingWhitespace }.filter { !$0.isEmpty } }
        _ = try DatasetArguments.string(p.voices_dir, "params.voices_dir")
        _ = try DatasetArguments.string(p.faces_dir, "params.faces_dir")
        let count = nModels * seconds.count + 1
        guard try Argument.buffer(rows, capacity: capacity, needed: count, neededOut: needed, name: "rows", unit: "rows") else { return }

        let index = try DatasetArguments.index(voices: p.voices_dir, faces: p.faces_dir, required: true, testList: p.test_list, split: p.split)
        let identities = try names.map { try index.identities(named: $0, voices: String(cString: p.voices_dir), faces: String(cString: p.faces_dir)) }
            ?? index.identities(in: split)
        guard identities.count >= 2 else {
            throw AVPGANError(.invalidArgument, "\(identities.count) identities with voices and faces were chosen; the evaluation needs at least 2 (params.identities, params.eval_split)")
        }
        let stop = stopAsker(p.abort_fn, p.abort_user_data)
        if stop() { throw AVPGANError(.aborted, "the abort callback stopped the evaluation before it began") }
        let evaluation = try FaceSimilarityEvaluation(identities: identities, faceModel: faceModel)
        let recordings = identities.reduce(0) { $0 + $1.voices.count } * seconds.count
        let progress = p.progress, user = UInt(bitPattern: p.progress_user_data)
        let report = try FaceSimilarityReport(models: labels, loaded: loaded, evaluation: evaluation, facePath: faceLabel, seconds: seconds,
                                              progress: { m, done, _ in
            progress?(UInt64(m * recordings + done), UInt64(nModels * recordings), UnsafeMutableRawPointer(bitPattern: user))
        }, shouldStop: stop)
        if let outDir { try report.write(to: outDir, rows: Int(p.rows)) }
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
        rows!.update(from: out, count: out.count)
    }
}
