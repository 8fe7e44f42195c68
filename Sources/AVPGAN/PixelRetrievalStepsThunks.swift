import AVPGANCore
import CAVPGAN

// avpgan_pixel_retrieval_evaluate in steps, for hosts that share the recordings out: the
// recordings, any share's voice embeddings (PixelRetrievalRecords), and the ranking of them all.

private let embeddingsParamsSize = MemoryLayout<avpgan_pixel_retrieval_embeddings_params>.stride

private let defaultEmbeddingsParams = avpgan_pixel_retrieval_embeddings_params(
    struct_size: embeddingsParamsSize, cache_dir: nil, progress: nil, progress_user_data: nil, abort_fn: nil, abort_user_data: nil)

/// The caller's pixel-retrieval params over the defaults.
private func retrievalParams(_ params: UnsafePointer<avpgan_pixel_retrieval_params>?) throws -> avpgan_pixel_retrieval_params {
    try Argument.params(try Argument.require(params, "params"), defaults: defaultRetrievalParams, minimumSize: retrievalParamsSize,
                        name: "params")
}

@_cdecl("avpgan_pixel_retrieval_recordings")
public func avpgan_pixel_retrieval_recordings(_ params: UnsafePointer<avpgan_pixel_retrieval_params>?,
                                              _ paths: UnsafeMutablePointer<CChar>?, _ capacity: Int,
                                              _ needed: UnsafeMutablePointer<Int>?, _ count: UnsafeMutablePointer<Int>?) -> Int32 {
    CallBoundary.run {
        let recordings = FaceSimilarityEvaluation.recordings(of: try retrievalIdentities(try retrievalParams(params)))
        try writePathList(recordings.map(\.path), into: paths, capacity: capacity, needed: needed, count: count)
    }
}

@_cdecl("avpgan_pixel_retrieval_embeddings_params_init")
public func avpgan_pixel_retrieval_embeddings_params_init(_ params: UnsafeMutablePointer<avpgan_pixel_retrieval_embeddings_params>?,
                                                          _ size: Int) -> Int32 {
    ParamsInit.fill(params, size: size, defaults: defaultEmbeddingsParams, minimumSize: embeddingsParamsSize)
}

@_cdecl("avpgan_pixel_retrieval_embeddings")
public func avpgan_pixel_retrieval_embeddings(_ handle: OpaquePointer?, _ recordings: UnsafePointer<UnsafePointer<CChar>?>?,
                                              _ nRecordings: Int, _ params: UnsafePointer<avpgan_pixel_retrieval_embeddings_params>?,
                                              _ buffer: UnsafeMutablePointer<UInt8>?, _ capacity: Int,
                                              _ needed: UnsafeMutablePointer<Int>?) -> Int32 {
    CallBoundary.run {
        let (model, paths, p) = try recordsStepArguments(handle, recordings, nRecordings, params, defaults: defaultEmbeddingsParams,
                                                         minimumSize: embeddingsParamsSize)
        if let dir = p.cache_dir { _ = try DatasetArguments.string(dir, "params.cache_dir") }  // a size query checks it too
        let one = PixelRetrievalRecords.recordSize(embedDim: model.embedDim)
        try fillRecords("embeddings", recordSize: one, count: nRecordings, into: buffer, capacity: capacity, needed: needed) {
            try PixelRetrievalRecords.make(model, recordings: paths, cache: try DatasetArguments.cache(p.cache_dir, orDefault: true),
                                           progress: progressReporter(p.progress, p.progress_user_data),
                                           shouldStop: stopAsker(p.abort_fn, p.abort_user_data))
        }
    }
}

@_cdecl("avpgan_pixel_retrieval_score")
public func avpgan_pixel_retrieval_score(_ handle: OpaquePointer?, _ params: UnsafePointer<avpgan_pixel_retrieval_params>?,
                                         _ embeddings: UnsafePointer<UInt8>?, _ size: Int,
                                         _ result: UnsafeMutablePointer<avpgan_pixel_retrieval_result>?) -> Int32 {
    CallBoundary.run {
        let model = try generatorModel(handle, "model")
        let result = try Argument.require(result, "result")
        try Argument.structSize(result.pointee.struct_size, minimum: retrievalResultSize, name: "result")
        let p = try retrievalParams(params)
        try Argument.size(size, "size")
        guard size == 0 || embeddings != nil else { throw AVPGANError(.invalidArgument, "embeddings is NULL but size is \(size)") }
        let grid = try p.grid_png.map { try DatasetArguments.string($0, "params.grid_png") }
        let identities = try retrievalIdentities(p)
        let recordings = FaceSimilarityEvaluation.recordings(of: identities)
        let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: embeddings, count: size))
        let all = try PixelRetrievalRecords.decode(bytes, recordings: recordings.map(\.path), model: model)
        let e = try PixelRetrievalEvaluation(model: model, identities: identities, recordings: recordings, embeddings: all)
        try finishRetrieval(e, grid: grid, into: result)
    }
}
