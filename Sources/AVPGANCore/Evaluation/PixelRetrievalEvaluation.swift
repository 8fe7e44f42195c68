/// The learning check by pixel distance (`avpgan pixel-retrieval`): for every recording with
/// speech of the chosen identities, the model makes a face (whole-utterance features from the
/// feature cache, no noise); that face is ranked against one mean picture per identity
/// (`FaceRetrieval`). The real pictures of the speakers, ranked the same way, give the ceiling
/// of this metric on the data set.
public struct PixelRetrievalEvaluation {
    public let identities: [DatasetIndex.Identity]
    /// The gallery: one mean picture per identity.
    public let retrieval: FaceRetrieval
    /// Rankings of the generated faces.
    public let generated: FaceRetrieval.Summary
    /// Rankings of the real pictures (the ceiling).
    public let realPictures: FaceRetrieval.Summary
    /// Each generated face's identity (an index into `identities`), one per recording with speech.
    public let owners: [Int]
    /// The generated faces, `[owners.count, 3, S, S]` in [-1, 1].
    public let faces: [Float]
    /// S.
    public let imageSize: Int

    /// Recordings with speech that were evaluated.
    public var recordings: Int { owners.count }

    /// Runs the check. `identities`: at least 2, each with voices and faces. `progress(done,
    /// total)` after each recording; `shouldStop` is asked before each recording and stops the
    /// run with an `aborted` error. Recordings without speech are left out; none with speech is
    /// a `noSpeech` error.
    public init(model: Model, identities: [DatasetIndex.Identity], cache: FeatureCache,
                progress: (Int, Int) -> Void = { _, _ in }, shouldStop: () -> Bool = { false }) throws {
        try model.requireGenerator()
        guard identities.count >= 2 else {
            throw AVPGANError(.invalidArgument, "retrieval needs at least 2 identities with voices and faces, got \(identities.count)")
        }
        let recordings = FaceSimilarityEvaluation.recordings(of: identities)
        let embeddings = try PixelRetrievalEvaluation.embeddings(model, recordings: recordings[...], cache: cache,
                                                                 progress: progress, shouldStop: shouldStop)
        try self.init(model: model, identities: identities, recordings: recordings, embeddings: embeddings)
    }

    /// The voice embedding of each of `recordings` (whole-utterance features from the cache),
    /// nil for a recording without speech: the per-recording part of the check, the part a
    /// data-parallel run shares out. `progress(done, total)` after each; `shouldStop` before each.
    public static func embeddings(_ model: Model, recordings: ArraySlice<(identity: Int, path: String)>, cache: FeatureCache,
                                  progress: (Int, Int) -> Void = { _, _ in }, shouldStop: () -> Bool = { false }) throws -> [[Float]?] {
        var out: [[Float]?] = [], done = 0
        var one = [Float](repeating: 0, count: model.embedDim)
        for (_, path) in recordings {
            if shouldStop() { throw AVPGANError(.aborted, "the evaluation was stopped after \(done) of \(recordings.count) recordings") }
            defer { done += 1; progress(done, recordings.count) }
            let features: (values: [Float], frames: Int)
            do { features = try cache.features(path) } catch let error as AVPGANError where error.kind == .noSpeech { out.append(nil); continue }
            try model.embed(features: features.values, frames: features.frames, melBands: LogMelExtractor.bands, into: &one)
            out.append(one)
        }
        return out
    }

    /// The check from the voice embeddings of `recordings` (`embeddings[r]`, nil: no speech):
    /// the faces generated in one batch, ranked against the identities' mean pictures.
    public init(model: Model, identities: [DatasetIndex.Identity], recordings: [(identity: Int, path: String)],
                embeddings: [[Float]?]) throws {
        try model.requireGenerator()
        guard identities.count >= 2 else {
            throw AVPGANError(.invalidArgument, "retrieval needs at least 2 identities with voices and faces, got \(identities.count)")
        }
        let size = model.imageSize, floats = model.imageFloats, e = model.embedDim
        guard embeddings.count == recordings.count, embeddings.allSatisfy({ $0 == nil || $0!.count == e }) else {
            throw AVPGANError.invalid("\(embeddings.count) embeddings for \(recordings.count) recordings, each of \(e) values expected")
        }
        retrieval = try FaceRetrieval(faces: try identities.map { try $0.faces.map { try FaceImage.load($0, size: size) } }, faceFloats: floats)
        var flat: [Float] = [], owners: [Int] = []
        for (r, embedding) in embeddings.enumerated() {
            guard let embedding else { continue }
            flat += embedding
            owners.append(recordings[r].identity)
        }
        guard !owners.isEmpty else { throw AVPGANError(.noSpeech, "no recording of the \(identities.count) identities has speech") }
        var faces = [Float](repeating: 0, count: owners.count * floats)
        try model.generate(embeddings: flat, count: owners.count, embedDim: e, into: &faces)
        let retrieval = self.retrieval
        let rankings = faces.withUnsafeBufferPointer { g in
            owners.enumerated().map { retrieval.rank(g.baseAddress! + $0.offset * floats, identity: $0.element) }
        }
        var real: [FaceRetrieval.Ranking] = []
        for (i, identity) in identities.enumerated() {
            for path in identity.faces { real.append(retrieval.rank(try FaceImage.load(path, size: size), identity: i)) }
        }
        self.identities = identities
        self.generated = FaceRetrieval.Summary(rankings, identities: identities.count)
        self.realPictures = FaceRetrieval.Summary(real, identities: identities.count)
        self.owners = owners
        self.faces = faces
        self.imageSize = size
    }

    /// The result as one JSON object (the CLI's `--json`): `model` and `split` label the run.
    public func json(model: String, split: String) -> String {
        let g = generated, r = realPictures
        return """
        {"model": \(JSON.quote(model)), "split": \(JSON.quote(split)), "identities": \(identities.count), "recordings": \(recordings), \
        "top1": \(g.top1), "top5": \(g.top5), "mean_rank": \(g.meanRank), \
        "chance_top1": \(g.chanceTop1), "chance_top5": \(g.chanceTop5), "chance_mean_rank": \(g.chanceMeanRank), \
        "real_top1": \(r.top1), "real_top5": \(r.top5), "real_mean_rank": \(r.meanRank)}

        """
    }

    /// A PNG sheet: one row per identity (up to 16), its mean picture, then up to 7 of the faces
    /// generated from its recordings (blank tiles where it has fewer).
    public func gridPNG() throws -> [UInt8] {
        let floats = 3 * imageSize * imageSize
        var tiles: [Float] = []
        let perRow = 1 + min(7, identities.map(\.voices.count).max() ?? 1)
        for i in 0..<min(identities.count, 16) {
            tiles += retrieval.gallery[(i * floats)..<((i + 1) * floats)]
            let mine = owners.indices.filter { owners[$0] == i }.prefix(perRow - 1)
            for k in mine { tiles += faces[(k * floats)..<((k + 1) * floats)] }
            tiles += [Float](repeating: 1, count: (perRow - 1 - mine.count) * floats)
        }
        return try FaceGrid.png(tiles, count: tiles.count / floats, size: imageSize, columns: perRow,
                                text: [("Comment", "avpgan evaluate: per row, the identity's mean picture, then faces from its recordings")])
    }
}
