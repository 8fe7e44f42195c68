/// `avpgan pixel-retrieval` spread over ranks (`GradientReducer`): the recordings are shared
/// out (`BatchSlice`, no recording twice), each rank computes its recordings' features and voice
/// embeddings, the embeddings (`PixelRetrievalRecords`) are gathered bit for bit on rank 0
/// (`RankGather`), and rank 0 generates and ranks the faces exactly as one process does (one
/// batch): the same result.
extension PixelRetrievalEvaluation {
    /// The check on rank 0; nil on the other ranks. Collective: every rank calls it with the
    /// same arguments (which the caller checks). `progress(done, total)` counts this rank's
    /// recordings.
    public static func distributed(model: Model, identities: [DatasetIndex.Identity], cache: FeatureCache, reducer: GradientReducer,
                                   progress: (Int, Int) -> Void = { _, _ in }) throws -> PixelRetrievalEvaluation? {
        try model.requireGenerator()
        let recordings = FaceSimilarityEvaluation.recordings(of: identities)
        let mine = BatchSlice.rows(batch: recordings.count, rank: reducer.rank, size: reducer.size)
        let paths = recordings.map(\.path)
        let records = try PixelRetrievalRecords.make(model, recordings: Array(paths[mine]), cache: cache, progress: progress)
        let gathered = try RankGather.toRoot(records, reducer: reducer)
        guard reducer.rank == 0 else { return nil }
        let all = try PixelRetrievalRecords.decode(gathered.flatMap { $0 }, recordings: paths, model: model)
        return try PixelRetrievalEvaluation(model: model, identities: identities, recordings: recordings, embeddings: all)
    }
}
