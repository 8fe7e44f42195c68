/// `avpgan pixel-retrieval` spread over ranks (`GradientReducer`): the recordings are shared
/// out (`BatchSlice`, no recording twice), each rank computes its recordings' features and voice
/// embeddings, the embeddings are gathered bit for bit on rank 0 (`RankGather`), and rank 0
/// generates and ranks the faces exactly as one process does (one batch): the same result.
extension PixelRetrievalEvaluation {
    /// The check on rank 0; nil on the other ranks. Collective: every rank calls it with the
    /// same arguments (which the caller checks). `progress(done, total)` counts this rank's
    /// recordings.
    public static func distributed(model: Model, identities: [DatasetIndex.Identity], cache: FeatureCache, reducer: GradientReducer,
                                   progress: (Int, Int) -> Void = { _, _ in }) throws -> PixelRetrievalEvaluation? {
        try model.requireGenerator()
        let recordings = FaceSimilarityEvaluation.recordings(of: identities)
        let mine = BatchSlice.rows(batch: recordings.count, rank: reducer.rank, size: reducer.size)
        let embeddings = try PixelRetrievalEvaluation.embeddings(model, recordings: recordings[mine], cache: cache, progress: progress)
        // Per recording: a flag (1 speech, 0 none), then the embedding's float bits, little-endian.
        var bytes: [UInt8] = []
        for e in embeddings {
            bytes.append(e == nil ? 0 : 1)
            for v in e ?? [] { for k in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v.bitPattern >> (8 * UInt32(k)))) } }
        }
        let gathered = try RankGather.toRoot(bytes, reducer: reducer)
        guard reducer.rank == 0 else { return nil }
        let e = model.embedDim
        var all: [[Float]?] = []
        for (rank, part) in gathered.enumerated() {
            var at = 0
            while at < part.count {
                let flag = part[at]
                at += 1
                guard flag == 1 else { all.append(nil); continue }
                guard at + 4 * e <= part.count else { throw AVPGANError.invalid("rank \(rank) sent a cut-short embedding") }
                all.append((0..<e).map { i in
                    Float(bitPattern: (0..<4).reduce(UInt32(0)) { $0 | UInt32(part[at + 4 * i + $1]) << (8 * UInt32($1)) })
                })
                at += 4 * e
            }
            guard all.count == BatchSlice.rows(batch: recordings.count, rank: rank, size: reducer.size).upperBound else {
                throw AVPGANError.invalid("rank \(rank) sent the embeddings of a different share of the \(recordings.count) recordings")
            }
        }
        return try PixelRetrievalEvaluation(model: model, identities: identities, recordings: recordings, embeddings: all)
    }
}
