/// The paper's quantitative protocol (eq. 15, Table 4) on a face-recognition network: for every
/// test recording and every voice length, the model's face is embedded by the face model and
/// compared by cosine similarity with the real faces of its speaker ("own") and of every other
/// test identity ("impostor", the baseline that a face unrelated to the voice would score);
/// each identity's faces also rank the generated face (retrieval top-1 / top-5).
///
/// Averaging: a recording's own score is the mean cosine over its speaker's faces; its
/// impostor score the mean over the other identities of their mean cosine. The difference
/// own − impostor gets a 95 % confidence interval over speakers (the mean of each speaker's
/// recordings first, so that a speaker with many recordings does not count as many
/// independent samples). Deterministic: threads only split independent recordings.
public struct FaceSimilarityEvaluation {
    /// The test data: identities with their voices and faces.
    public let identities: [DatasetIndex.Identity]
    public let faceModel: FaceModel
    /// Unit embeddings of every real face, `[faces, D]`, and each face's identity.
    public let realEmbeddings: [Float]
    public let realOwners: [Int]
    /// Each identity's first picture (for figures).
    public let firstPictures: [FaceModel.Image]

    /// One recording's scores at one length.
    public struct Score: Sendable {
        public var identity: Int
        public var recording: String
        public var own: Double
        public var impostor: Double
        /// 1 = its own identity scored highest.
        public var rank: Int
        /// Seconds of voiced audio the portrait was made from (less than the length asked when
        /// the recording holds less speech).
        public var voicedSeconds: Double
    }

    /// The summary of one row of the table.
    public struct Summary: Sendable {
        public var recordings: Int
        public var identities: Int
        public var own: Double
        public var impostor: Double
        public var difference: Double
        public var differenceLow: Double
        public var differenceHigh: Double
        public var top1: Double
        public var top5: Double
        /// Mean seconds of voiced audio used per recording.
        public var voicedSeconds: Double
        public var chanceTop1: Double { 1 / Double(identities) }
        public var chanceTop5: Double { min(5, Double(identities)) / Double(identities) }

        init(_ scores: [Score], identities: Int) {
            recordings = scores.count
            self.identities = identities
            own = Statistics.mean(scores.map(\.own))
            impostor = Statistics.mean(scores.map(\.impostor))
            var perIdentity: [Int: [Double]] = [:]
            for s in scores { perIdentity[s.identity, default: []].append(s.own - s.impostor) }
            let speakerMeans = perIdentity.keys.sorted().map { Statistics.mean(perIdentity[$0]!) }
            let ci = Statistics.meanWithCI95(speakerMeans)
            (difference, differenceLow, differenceHigh) = ci
            let n = Double(max(scores.count, 1))
            top1 = Double(scores.filter { $0.rank == 1 }.count) / n
            top5 = Double(scores.filter { $0.rank <= 5 }.count) / n
            voicedSeconds = Statistics.mean(scores.map(\.voicedSeconds))
        }
    }

    /// One model's results: per length, every recording's score and the summary, and the
    /// generated faces `[recording][length]` (RGB8, `imageSize` square) for the figures.
    public struct ModelResult: Sendable {
        public var seconds: [Double]
        public var scores: [[Score]]
        public var summaries: [Summary]
        /// Per recording (in `recordings` order): identity, path, and the faces per length.
        public var recordings: [(identity: Int, path: String)]
        public var faces: [[[UInt8]]]
        public var imageSize: Int
    }

    /// Embeds every real face of `identities` (progress: faces done, total).
    public init(identities: [DatasetIndex.Identity], faceModel: FaceModel, progress: (Int, Int) -> Void = { _, _ in }) throws {
        guard identities.count >= 2 else { throw AVPGANError.invalid("the evaluation needs at least 2 identities, got \(identities.count)") }
        self.identities = identities
        self.faceModel = faceModel
        var owners: [Int] = [], firsts: [FaceModel.Image] = []
        var embeddings: [Float] = []
        let total = identities.reduce(0) { $0 + $1.faces.count }
        let d = faceModel.embedDim
        for (i, identity) in identities.enumerated() {
            guard !identity.faces.isEmpty else { throw AVPGANError.invalid("identity \(identity.name) has no face pictures") }
            let images = try identity.faces.map(FaceImage.loadRGB8)
            firsts.append(images[0])
            var out = [Float](repeating: 0, count: images.count * d)
            try faceModel.embed(images, into: &out)
            embeddings += out
            owners += Array(repeating: i, count: images.count)
            progress(owners.count, total)
        }
        FaceSimilarityEvaluation.normalizeRows(&embeddings, dim: d)
        realEmbeddings = embeddings
        realOwners = owners
        firstPictures = firsts
    }

    static func normalizeRows(_ x: inout [Float], dim: Int) {
        x.withUnsafeMutableBufferPointer { p in
            for r in 0..<(p.count / dim) { Reductions.l2Normalize(p.baseAddress! + r * dim, count: dim) }
        }
    }

    /// Own, impostor and rank of a unit embedding `e` of a face from identity `identity`;
    /// `skip` leaves one real face out (the face itself, for the real-face reference row).
    func score(_ e: UnsafePointer<Float>, identity: Int, skip: Int? = nil) -> (own: Double, impostor: Double, rank: Int) {
        let d = faceModel.embedDim
        var sums = [Double](repeating: 0, count: identities.count), counts = [Int](repeating: 0, count: identities.count)
        realEmbeddings.withUnsafeBufferPointer { r in
            for (k, owner) in realOwners.enumerated() where k != skip {
                sums[owner] += Double(BLAS.dot(d, e, r.baseAddress! + k * d))
                counts[owner] += 1
            }
        }
        let means = zip(sums, counts).map { $1 > 0 ? $0 / Double($1) : -.infinity }
        let own = means[identity]
        let others = means.enumerated().filter { $0.offset != identity && $0.element.isFinite }.map(\.element)
        let rank = 1 + others.filter { $0 >= own }.count
        return (own, Statistics.mean(others), rank)
    }

    /// The reference row: each real face scored against the others (itself left out), the
    /// ceiling of the protocol on this data and face model. Identities with one face only
    /// have no own score and are skipped.
    public func realFaceSummary() -> Summary {
        var scores: [Score] = []
        let d = faceModel.embedDim
        realEmbeddings.withUnsafeBufferPointer { r in
            for (k, owner) in realOwners.enumerated() where realOwners.filter({ $0 == owner }).count > 1 {
                let s = score(r.baseAddress! + k * d, identity: owner, skip: k)
                scores.append(Score(identity: owner, recording: identities[owner].faces[0], own: s.own, impostor: s.impostor,
                                    rank: s.rank, voicedSeconds: .nan))
            }
        }
        return Summary(scores, identities: identities.count)
    }

    /// Evaluates `model` on every recording of the identities at each of `seconds` (nil: the
    /// whole voiced recording). Recordings without speech are skipped (reported by `skipped`).
    /// Progress: portraits done, total.
    public func evaluate(_ model: Model, seconds: [Double?], vadMode: Int = 2,
                         progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in },
                         skipped: (String, String) -> Void = { _, _ in }) throws -> ModelResult {
        let recordings = FaceSimilarityEvaluation.recordings(of: identities)
        let faces = try FaceSimilarityEvaluation.portraits(model, recordings: recordings[...], seconds: seconds, vadMode: vadMode,
                                                           progress: progress)
        return try result(model, recordings: recordings, faces: faces, seconds: seconds, skipped: skipped)
    }

    /// Every recording of `identities`, in identity order, then path order within each.
    public static func recordings(of identities: [DatasetIndex.Identity]) -> [(identity: Int, path: String)] {
        identities.enumerated().flatMap { i, identity in identity.voices.map { (identity: i, path: $0) } }
    }

    /// One recording's portraits: per length the face (RGB8) and the voiced seconds it was
    /// made from; or, for a recording without speech, why (`skipped`).
    public struct RecordingFaces: Sendable {
        public var faces: [(face: [UInt8], voiced: Double)]
        public var skipped: String?
    }

    /// The portraits of `recordings` at each of `seconds` (the expensive part of `evaluate`,
    /// the part a data-parallel run shares out: `FaceSimilarityRecords`). Threads split the
    /// recordings; a recording without speech is kept as skipped, any other failure is thrown
    /// (the first failing recording's, in order). `shouldStop`, asked before each recording
    /// from the worker threads, stops with an `aborted` error.
    public static func portraits(_ model: Model, recordings: ArraySlice<(identity: Int, path: String)>, seconds: [Double?],
                                 vadMode: Int = 2, progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in },
                                 shouldStop: @escaping @Sendable () -> Bool = { false }) throws -> [RecordingFaces] {
        try model.requireGenerator()
        let recordings = Array(recordings), lengths = seconds.count
        let slots = UnsafeMutableBufferPointer<RecordingFaces?>.allocate(capacity: recordings.count)
        slots.initialize(repeating: nil)
        defer {  // the buffer holds arrays and strings: deinitialize it, or they leak
            _ = slots.deinitialize(); slots.deallocate()
        }
        let counter = ProgressCounter(total: recordings.count * lengths, report: progress)
        var errors = [AVPGANError?](repeating: nil, count: recordings.count)
        let errorLock = PThreadMutex()
        parallelFor(recordings.count, costPerItem: 1 << 20) { r in
            do {
                if shouldStop() { throw AVPGANError(.aborted, "the portraits were stopped before recording \(r + 1) of \(recordings.count)") }
                let audio = try AudioDecoder.decode(path: recordings[r].path)
                var faces: [(face: [UInt8], voiced: Double)] = []
                for s in seconds {
                    let p = try model.portrait(audio, options: PortraitOptions(frontEnd: FrontEndOptions(seconds: s, vad: true, vadMode: vadMode)))
                    faces.append((p.pixels, p.features.voicedSeconds))
                    counter.add(1)
                }
                slots[r] = RecordingFaces(faces: faces, skipped: nil)
            } catch let e as AVPGANError where e.kind == .noSpeech {
                slots[r] = RecordingFaces(faces: [], skipped: e.message)
                counter.add(lengths)
            } catch {
                errorLock.lock()
                errors[r] = (error as? AVPGANError) ?? AVPGANError(.internal, "\(error)")
                errorLock.unlock()
            }
        }
        // An abort only where no recording failed otherwise: the failure is the news.
        if let first = errors.first(where: { $0 != nil && $0!.kind != .aborted }) ?? errors.first(where: { $0 != nil }) { throw first! }
        return slots.map { $0! }
    }

    /// The model's result from the portraits of `recordings` (`faces[r]` for `recordings[r]`):
    /// every face embedded in one batch per length, then scored. Skipped recordings are
    /// reported by `skipped`; none with speech is a `noSpeech` error.
    public func result(_ model: Model, recordings: [(identity: Int, path: String)], faces slots: [RecordingFaces], seconds: [Double?],
                       skipped: (String, String) -> Void = { _, _ in }) throws -> ModelResult {
        guard slots.count == recordings.count, slots.allSatisfy({ $0.skipped != nil || $0.faces.count == seconds.count }) else {
            throw AVPGANError.invalid("\(slots.count) recordings' portraits for \(recordings.count) recordings at \(seconds.count) lengths")
        }
        for r in recordings.indices { if let why = slots[r].skipped { skipped(recordings[r].path, why) } }
        let kept = recordings.indices.filter { slots[$0].skipped == nil }
        guard !kept.isEmpty else { throw AVPGANError(.noSpeech, "no recording of the \(identities.count) identities has speech") }
        let size = model.imageSize
        guard kept.allSatisfy({ slots[$0].faces.allSatisfy { $0.face.count == size * size * 3 } }) else {
            throw AVPGANError.invalid("a portrait is not \(size) x \(size) RGB8")
        }

        // Embed every generated face in one batch per length, then score.
        let d = faceModel.embedDim
        var scores: [[Score]] = [], summaries: [Summary] = []
        for l in seconds.indices {
            let images = kept.map { FaceModel.Image(pixels: slots[$0].faces[l].face, width: size, height: size) }
            var e = [Float](repeating: 0, count: images.count * d)
            try faceModel.embed(images, into: &e)
            FaceSimilarityEvaluation.normalizeRows(&e, dim: d)
            let row: [Score] = e.withUnsafeBufferPointer { p in
                kept.enumerated().map { k, r in
                    let s = score(p.baseAddress! + k * d, identity: recordings[r].identity)
                    return Score(identity: recordings[r].identity, recording: recordings[r].path, own: s.own, impostor: s.impostor,
                                 rank: s.rank, voicedSeconds: slots[r].faces[l].voiced)
                }
            }
            scores.append(row)
            summaries.append(Summary(row, identities: identities.count))
        }
        return ModelResult(seconds: seconds.map { $0 ?? 0 }, scores: scores, summaries: summaries,
                           recordings: kept.map { recordings[$0] }, faces: kept.map { slots[$0].faces.map(\.face) }, imageSize: size)
    }
}

/// A thread-safe count of finished work that reports each increment.
final class ProgressCounter: @unchecked Sendable {
    private var done = 0
    private let total: Int
    private let report: @Sendable (Int, Int) -> Void
    private let mutex = PThreadMutex()

    init(total: Int, report: @escaping @Sendable (Int, Int) -> Void) {
        self.total = total
        self.report = report
    }

    func add(_ n: Int) {
        mutex.lock()
        done += n
        let now = done
        report(now, total)
        mutex.unlock()
    }
}
