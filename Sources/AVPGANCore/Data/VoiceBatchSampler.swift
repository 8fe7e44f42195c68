/// Draws speaker-classification batches for voice-encoder pre-training from a `DatasetIndex`
/// (voices only): every training speaker's features come from the `FeatureCache` once; when a
/// speaker has at least two recordings with speech, its last one (in path order) is held out
/// for the accuracy check and never cropped for training. Each batch takes one crop length in
/// `cropFrames` (300–800 as the GAN sampler), and per crop a random speaker, utterance and
/// start (an utterance shorter than the crop is tiled). Deterministic for a given seed.
public struct VoiceBatchSampler: Sendable {
    public typealias Utterance = (values: [Float], frames: Int)

    public let speakers: Int
    public var cropFrames: ClosedRange<Int> = 300...800
    /// Training utterances per speaker, `[frames, LogMelExtractor.bands]` frame-major each.
    let train: [[Utterance]]
    /// Held-out utterances with their speaker label.
    public let heldOut: [(label: Int, utterance: Utterance)]
    var rng: SplitMix

    /// The generator's state (kept in checkpoints so a resumed run draws the same batches).
    public var randomState: UInt64 {
        get { rng.state }
        set { rng.state = newValue }
    }

    /// Loads the voices of `index.train`; `progress(done, total)` after each file. Recordings
    /// without speech are skipped; a speaker left with none is an error.
    public init(index: DatasetIndex, cache: FeatureCache, seed: UInt64, progress: (Int, Int) -> Void = { _, _ in }) throws {
        let total = index.train.reduce(0) { $0 + $1.voices.count }
        var done = 0
        var train: [[Utterance]] = [], heldOut: [(label: Int, utterance: Utterance)] = []
        for (label, identity) in index.train.enumerated() {
            var usable: [Utterance] = []
            for path in identity.voices {
                do { usable.append(try cache.features(path)) } catch let e as AVPGANError where e.kind == .noSpeech {}
                done += 1
                progress(done, total)
            }
            guard !usable.isEmpty else { throw AVPGANError(.noSpeech, "speaker \(identity.name) has no recording with speech") }
            if usable.count >= 2 { heldOut.append((label, usable.removeLast())) }
            train.append(usable)
        }
        speakers = index.train.count
        self.train = train
        self.heldOut = heldOut
        rng = SplitMix(seed: seed)
    }

    /// A batch of `n` crops: `voices` `[n, frames, LogMelExtractor.bands]` frame-major, `labels` `[n]`.
    public mutating func next(batch n: Int) -> (voices: [Float], labels: [Int], frames: Int) {
        next(batch: n, rows: 0..<n)
    }

    /// The rows `rows` of a batch of `n` crops (one rank's share, `BatchSlice`): the generator
    /// draws the whole batch, so every rank keeps the same state and crop length, and only the
    /// rows kept are copied. `voices` `[rows.count, frames, LogMelExtractor.bands]`, `labels` `[rows.count]`.
    public mutating func next(batch n: Int, rows: Range<Int>) -> (voices: [Float], labels: [Int], frames: Int) {
        precondition(rows.lowerBound >= 0 && rows.upperBound <= n)
        let t = cropFrames.lowerBound + Int(rng.next() % UInt64(cropFrames.count))
        var voices = [Float](repeating: 0, count: rows.count * t * LogMelExtractor.bands)
        var labels: [Int] = []
        for b in 0..<n {
            let id = Int(rng.next() % UInt64(speakers))
            let utterance = train[id][Int(rng.next() % UInt64(train[id].count))]
            let start = utterance.frames > t ? Int(rng.next() % UInt64(utterance.frames - t + 1)) : 0
            guard rows.contains(b) else { continue }
            let row = b - rows.lowerBound
            copyTiledCrop(utterance, start: start, length: t, into: &voices, at: row * t * LogMelExtractor.bands)
            labels.append(id)
        }
        return (voices, labels, t)
    }
}
