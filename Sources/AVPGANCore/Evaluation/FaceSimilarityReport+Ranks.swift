/// `avpgan eval` spread over ranks (`GradientReducer`: mpirun, a C host's communicator): the
/// recordings are shared out (contiguous, as equal as can be: `BatchSlice`; no recording twice),
/// each rank makes its recordings' portraits, the portraits (`FaceSimilarityRecords`: RGB8 faces
/// and voiced seconds, bit for bit) are gathered on rank 0 (`RankGather`), and rank 0 embeds and scores them exactly
/// as one process does: the report is byte for byte the one-process report.
extension FaceSimilarityReport {
    /// The report of `loaded` on `identities`, on rank 0; nil on the other ranks. Collective:
    /// every rank calls it with the same arguments (which the caller checks, e.g. with
    /// `RankAgreement`). Only rank 0 embeds the real faces (`realFaces` progress) and the
    /// generated ones; every rank reports its own portraits (`progress(model, done, total)`).
    public static func distributed(models: [String], loaded: [Model], identities: [DatasetIndex.Identity], faceModel: FaceModel,
                                   facePath: String, seconds: [Double?], reducer: GradientReducer,
                                   realFaces: (Int, Int) -> Void = { _, _ in },
                                   progress: @escaping @Sendable (Int, Int, Int) -> Void = { _, _, _ in },
                                   skipped: (String, String) -> Void = { _, _ in }) throws -> FaceSimilarityReport? {
        guard models.count == loaded.count, !loaded.isEmpty, !seconds.isEmpty else {
            throw AVPGANError(.invalidArgument, "\(loaded.count) models with \(models.count) labels at \(seconds.count) lengths; expected at least one model, one label each, and one length")
        }
        let lead = reducer.rank == 0
        let evaluation = lead ? try FaceSimilarityEvaluation(identities: identities, faceModel: faceModel, progress: realFaces) : nil
        let recordings = FaceSimilarityEvaluation.recordings(of: identities)
        let mine = BatchSlice.rows(batch: recordings.count, rank: reducer.rank, size: reducer.size)
        var results: [FaceSimilarityEvaluation.ModelResult] = []
        let paths = recordings.map(\.path)
        for (m, model) in loaded.enumerated() {
            let records = try FaceSimilarityRecords.make(model, recordings: Array(paths[mine]), seconds: seconds,
                                                      progress: { progress(m, $0, $1) })
            let gathered = try RankGather.toRoot(records, reducer: reducer)
            guard let evaluation else { continue }
            let faces = try FaceSimilarityRecords.decode(gathered.flatMap { $0 }, recordings: paths, model: model, seconds: seconds)
            results.append(try evaluation.result(model, recordings: recordings, faces: faces, seconds: seconds, skipped: skipped))
        }
        guard let evaluation else { return nil }
        return try FaceSimilarityReport(models: models, loaded: loaded, evaluation: evaluation, facePath: facePath, seconds: seconds,
                                        results: results)
    }
}
