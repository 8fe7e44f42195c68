/// `avpgan eval` spread over ranks (`GradientReducer`: mpirun, a C host's communicator): the
/// recordings are shared out (contiguous, as equal as can be: `BatchSlice`; no recording twice),
/// each rank makes its recordings' portraits, the portraits (RGB8 faces and voiced seconds,
/// bit for bit) are gathered on rank 0 (`RankGather`), and rank 0 embeds and scores them exactly
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
        for (m, model) in loaded.enumerated() {
            let faces = try FaceSimilarityEvaluation.portraits(model, recordings: recordings[mine], seconds: seconds,
                                                               progress: { progress(m, $0, $1) })
            var bytes: [UInt8] = []
            for f in faces { f.encode(into: &bytes) }
            let gathered = try RankGather.toRoot(bytes, reducer: reducer)
            guard let evaluation else { continue }
            var all: [FaceSimilarityEvaluation.RecordingFaces] = []
            for (rank, part) in gathered.enumerated() {
                var at = 0
                while at < part.count { all.append(try .decode(part, at: &at)) }
                guard all.count == BatchSlice.rows(batch: recordings.count, rank: rank, size: reducer.size).upperBound else {
                    throw AVPGANError.invalid("rank \(rank) sent the portraits of a different share of the \(recordings.count) recordings")
                }
            }
            results.append(try evaluation.result(model, recordings: recordings, faces: all, seconds: seconds, skipped: skipped))
        }
        guard let evaluation else { return nil }
        return try FaceSimilarityReport(models: models, loaded: loaded, evaluation: evaluation, facePath: facePath, seconds: seconds,
                                        results: results)
    }
}

extension FaceSimilarityEvaluation.RecordingFaces {
    /// Appends this recording's portraits to `bytes`: a flag (1 faces, 0 skipped), then per
    /// length the voiced seconds (IEEE-754 bits, little-endian) and the face's byte count and
    /// bytes; or the reason it was skipped (byte count and UTF-8).
    func encode(into bytes: inout [UInt8]) {
        func put(_ v: UInt64, _ n: Int) { for k in 0..<n { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(k)))) } }
        if let skipped {
            bytes.append(0)
            let text = Array(skipped.utf8)
            put(UInt64(text.count), 4)
            bytes += text
            return
        }
        bytes.append(1)
        put(UInt64(faces.count), 4)
        for f in faces {
            put(f.voiced.bitPattern, 8)
            put(UInt64(f.face.count), 4)
            bytes += f.face
        }
    }

    /// The recording encoded at `bytes[at...]`; advances `at`. Throws on a truncated record.
    static func decode(_ bytes: [UInt8], at: inout Int) throws -> Self {
        func take(_ n: Int) throws -> ArraySlice<UInt8> {
            guard n >= 0, at + n <= bytes.count else { throw AVPGANError.invalid("a gathered portrait record is cut short at byte \(at) of \(bytes.count)") }
            defer { at += n }
            return bytes[at..<(at + n)]
        }
        func get(_ n: Int) throws -> UInt64 {
            try take(n).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        }
        let flag = try get(1)
        if flag == 0 {
            let length = Int(try get(4))
            let text = try take(length)
            return Self(faces: [], skipped: String(decoding: text, as: UTF8.self))
        }
        var faces: [(face: [UInt8], voiced: Double)] = []
        let lengths = Int(try get(4))
        for _ in 0..<lengths {
            let voiced = Double(bitPattern: try get(8))
            let count = Int(try get(4))
            faces.append((Array(try take(count)), voiced))
        }
        return Self(faces: faces, skipped: nil)
    }
}
