import AVPGANCore
import CAVPGAN

// avpgan_face_similarity_evaluate in steps, for hosts that share the recordings out: the
// recordings, any share's portraits (FaceSimilarityRecords), and the scoring of them all.

private let portraitsParamsSize = MemoryLayout<avpgan_face_similarity_portraits_params>.stride

private let defaultPortraitsParams = avpgan_face_similarity_portraits_params(
    struct_size: portraitsParamsSize, seconds: nil, n_seconds: 0, progress: nil, progress_user_data: nil,
    abort_fn: nil, abort_user_data: nil)

@_cdecl("avpgan_face_similarity_recordings")
public func avpgan_face_similarity_recordings(_ params: UnsafePointer<avpgan_face_similarity_params>?,
                                              _ paths: UnsafeMutablePointer<CChar>?, _ capacity: Int,
                                              _ needed: UnsafeMutablePointer<Int>?, _ count: UnsafeMutablePointer<Int>?) -> Int32 {
    CallBoundary.run {
        let dataset = try FaceSimilarityDataset(params)
        try dataset.checkFolders()
        let recordings = FaceSimilarityEvaluation.recordings(of: try dataset.identities())
        try writePathList(recordings.map(\.path), into: paths, capacity: capacity, needed: needed, count: count)
    }
}

@_cdecl("avpgan_face_similarity_portraits_params_init")
public func avpgan_face_similarity_portraits_params_init(_ params: UnsafeMutablePointer<avpgan_face_similarity_portraits_params>?,
                                                         _ size: Int) -> Int32 {
    ParamsInit.fill(params, size: size, defaults: defaultPortraitsParams, minimumSize: portraitsParamsSize)
}

@_cdecl("avpgan_face_similarity_portraits")
public func avpgan_face_similarity_portraits(_ handle: OpaquePointer?, _ recordings: UnsafePointer<UnsafePointer<CChar>?>?,
                                             _ nRecordings: Int, _ params: UnsafePointer<avpgan_face_similarity_portraits_params>?,
                                             _ buffer: UnsafeMutablePointer<UInt8>?, _ capacity: Int,
                                             _ needed: UnsafeMutablePointer<Int>?) -> Int32 {
    CallBoundary.run {
        let (model, paths, p) = try recordsStepArguments(handle, recordings, nRecordings, params, defaults: defaultPortraitsParams,
                                                         minimumSize: portraitsParamsSize)
        let seconds = try evaluationLengths(p.seconds, p.n_seconds)
        let one = FaceSimilarityRecords.recordSize(lengths: seconds.count, imageSize: model.imageSize)
        try fillRecords("portraits", recordSize: one, count: nRecordings, into: buffer, capacity: capacity, needed: needed) {
            // Called from worker threads: the callbacks travel as addresses (Sendable).
            let progress = p.progress, progressUser = UInt(bitPattern: p.progress_user_data)
            let abort = p.abort_fn, abortUser = UInt(bitPattern: p.abort_user_data)
            return try FaceSimilarityRecords.make(model, recordings: paths, seconds: seconds, progress: { done, all in
                progress?(UInt64(done), UInt64(all), UnsafeMutableRawPointer(bitPattern: progressUser))
            }, shouldStop: { abort.map { $0(UnsafeMutableRawPointer(bitPattern: abortUser)) != 0 } ?? false })
        }
    }
}

@_cdecl("avpgan_face_similarity_score")
public func avpgan_face_similarity_score(_ models: UnsafePointer<OpaquePointer?>?, _ nModels: Int, _ faceHandle: OpaquePointer?,
                                         _ params: UnsafePointer<avpgan_face_similarity_params>?,
                                         _ portraits: UnsafePointer<UnsafePointer<UInt8>?>?, _ portraitSizes: UnsafePointer<Int>?,
                                         _ rows: UnsafeMutablePointer<avpgan_face_similarity>?, _ capacity: Int,
                                         _ needed: UnsafeMutablePointer<Int>?) -> Int32 {
    CallBoundary.run {
        let a = try FaceSimilarityArguments(models: models, count: nModels, faceModel: faceHandle, params: params)
        let starts = try Argument.require(portraits, "portraits"), sizes = try Argument.require(portraitSizes, "portrait_sizes")
        let parts = try (0..<nModels).map { m -> (UnsafePointer<UInt8>?, Int) in
            let size = try Argument.size(sizes[m], "portrait_sizes[\(m)]")
            guard size == 0 || starts[m] != nil else { throw AVPGANError(.invalidArgument, "portraits[\(m)] is NULL but portrait_sizes[\(m)] is \(size)") }
            return (starts[m], size)
        }
        guard try Argument.buffer(rows, capacity: capacity, needed: a.rowCount, neededOut: needed, name: "rows", unit: "rows") else { return }
        let identities = try a.identities()
        let stop = stopAsker(a.p.abort_fn, a.p.abort_user_data)
        let evaluation = try FaceSimilarityEvaluation(identities: identities, faceModel: a.faceModel)
        let recordings = FaceSimilarityEvaluation.recordings(of: identities), paths = recordings.map(\.path)
        var results: [FaceSimilarityEvaluation.ModelResult] = []
        for (m, model) in a.loaded.enumerated() {
            if stop() { throw AVPGANError(.aborted, "the scoring was stopped after \(m) of \(a.loaded.count) models") }
            let bytes = parts[m].1 == 0 ? [] : Array(UnsafeBufferPointer(start: parts[m].0, count: parts[m].1))
            let faces: [FaceSimilarityEvaluation.RecordingFaces]
            do {
                faces = try FaceSimilarityRecords.decode(bytes, recordings: paths, model: model, seconds: a.seconds)
            } catch let e as AVPGANError {
                throw AVPGANError(e.kind, "portraits[\(m)]: \(e.message)")
            }
            results.append(try evaluation.result(model, recordings: recordings, faces: faces, seconds: a.seconds))
        }
        let report = try FaceSimilarityReport(models: a.labels, loaded: a.loaded, evaluation: evaluation, facePath: a.faceLabel,
                                              seconds: a.seconds, results: results)
        try a.finish(report, into: rows!)
    }
}
