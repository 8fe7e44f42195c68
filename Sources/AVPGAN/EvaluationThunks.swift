import AVPGANCore
import CAVPGAN

// Evaluation entry points: pixel retrieval and face similarity (avpgan pixel-retrieval, eval).

let retrievalParamsSize = MemoryLayout<avpgan_pixel_retrieval_params>.stride
let retrievalResultSize = MemoryLayout<avpgan_pixel_retrieval_result>.stride

let defaultRetrievalParams = avpgan_pixel_retrieval_params(
    struct_size: retrievalParamsSize, voices_dir: nil, faces_dir: nil, test_list: nil,
    split: Int32(AVPGAN_SPLIT_TEST_LIST.rawValue), eval_split: Int32(AVPGAN_EVAL_SPLIT_TEST.rawValue), cache_dir: nil,
    grid_png: nil, progress: nil, progress_user_data: nil, abort_fn: nil, abort_user_data: nil)

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
        let grid = try p.grid_png.map { try DatasetArguments.string($0, "params.grid_png") }
        let cache = try DatasetArguments.cache(p.cache_dir, orDefault: true)
        let identities = try retrievalIdentities(p)
        let e = try PixelRetrievalEvaluation(model: model, identities: identities, cache: cache,
                                             progress: progressReporter(p.progress, p.progress_user_data),
                                             shouldStop: stopAsker(p.abort_fn, p.abort_user_data))
        try finishRetrieval(e, grid: grid, into: result)
    }
}

/// The identities of pixel retrieval's params: the data set's eval_split; at least 2.
func retrievalIdentities(_ p: avpgan_pixel_retrieval_params) throws -> [DatasetIndex.Identity] {
    let split = try DatasetArguments.evalSplit(p.eval_split)
    let index = try DatasetArguments.index(voices: p.voices_dir, faces: p.faces_dir, required: true, testList: p.test_list, split: p.split)
    let identities = index.identities(in: split)
    guard identities.count >= 2 else {
        throw AVPGANError(.invalidArgument, "the \(split.rawValue) identities number \(identities.count); retrieval needs at least 2 with voices and faces (params.eval_split, params.test_list)")
    }
    return identities
}

/// Writes the grid (when asked) and fills the caller's result (its struct_size checked first).
func finishRetrieval(_ e: PixelRetrievalEvaluation, grid: String?, into result: UnsafeMutablePointer<avpgan_pixel_retrieval_result>) throws {
    if let grid { try FileIO.write(try e.gridPNG(), to: grid) }
    let g = e.generated, r = e.realPictures
    let full = avpgan_pixel_retrieval_result(
        struct_size: retrievalResultSize, n_identities: UInt32(e.identities.count), n_recordings: UInt32(e.recordings),
        top1: g.top1, top5: g.top5, mean_rank: g.meanRank, chance_top1: g.chanceTop1, chance_top5: g.chanceTop5,
        chance_mean_rank: g.chanceMeanRank, real_top1: r.top1, real_top5: r.top5, real_mean_rank: r.meanRank)
    try Argument.fill(result, with: full, size: result.pointee.struct_size, minimumSize: retrievalResultSize, name: "result")
}

@_cdecl("avpgan_face_similarity_evaluate")
public func avpgan_face_similarity_evaluate(_ models: UnsafePointer<OpaquePointer?>?, _ nModels: Int, _ faceHandle: OpaquePointer?,
                                            _ params: UnsafePointer<avpgan_face_similarity_params>?,
                                            _ rows: UnsafeMutablePointer<avpgan_face_similarity>?, _ capacity: Int,
                                            _ needed: UnsafeMutablePointer<Int>?) -> Int32 {
    CallBoundary.run {
        let a = try FaceSimilarityArguments(models: models, count: nModels, faceModel: faceHandle, params: params)
        guard try Argument.buffer(rows, capacity: capacity, needed: a.rowCount, neededOut: needed, name: "rows", unit: "rows") else { return }
        let identities = try a.identities()
        let stop = stopAsker(a.p.abort_fn, a.p.abort_user_data)
        if stop() { throw AVPGANError(.aborted, "the abort callback stopped the evaluation before it began") }
        let evaluation = try FaceSimilarityEvaluation(identities: identities, faceModel: a.faceModel)
        let recordings = identities.reduce(0) { $0 + $1.voices.count } * a.seconds.count
        let progress = a.p.progress, user = UInt(bitPattern: a.p.progress_user_data), nModels = a.loaded.count
        let report = try FaceSimilarityReport(models: a.labels, loaded: a.loaded, evaluation: evaluation, facePath: a.faceLabel,
                                              seconds: a.seconds, progress: { m, done, _ in
            progress?(UInt64(m * recordings + done), UInt64(nModels * recordings), UnsafeMutableRawPointer(bitPattern: user))
        }, shouldStop: stop)
        try a.finish(report, into: rows!)
    }
}
