/// Voice-encoder pre-training over a data set (`avpgan train-voice`): batches from a
/// `VoiceBatchSampler`, one `VoiceEncoderPretrainer` step each; checkpoints that resume
/// bit-identically (encoder, head, running statistics, Adam, step, sampler state); the
/// encoder-only model file; and the speaker accuracy on the held-out utterances.
public final class VoiceEncoderPretrainingRun {
    let trainer: VoiceEncoderPretrainer
    var sampler: VoiceBatchSampler
    public let speakerNames: [String]
    public private(set) var step: Int
    public let batchSize: Int
    public var config: ModelConfig { trainer.config }

    /// A fresh run: an encoder of `widths` (`TrainingRun.Widths`' voice widths and embedding
    /// size) and a speaker head for `index.train`, initialised from `seed`.
    public init(widths: TrainingRun.Widths, index: DatasetIndex, cache: FeatureCache, batchSize: Int, seed: UInt64,
                lr: Double = 2e-4, progress: (Int, Int) -> Void = { _, _ in }) throws {
        let config = ModelConfig.voiceEncoderOnly(embedDim: widths.embed, voiceWidths: widths.voice)
        let tensors = VoiceEncoderPretrainer.initialTensors(config: config, speakers: index.train.count, seed: seed)
        trainer = try VoiceEncoderPretrainer(config: config, speakers: index.train.count, tensors: tensors, lr: lr)
        sampler = try VoiceBatchSampler(index: index, cache: cache, seed: seed &+ 1, progress: progress)
        speakerNames = index.train.map(\.name)
        step = 0
        self.batchSize = batchSize
    }

    /// A run resumed from `checkpoint` on the same training speakers.
    public init(checkpoint: VoiceTrainingCheckpoint, index: DatasetIndex, cache: FeatureCache, batchSize: Int,
                progress: (Int, Int) -> Void = { _, _ in }) throws {
        let names = index.train.map(\.name)
        guard checkpoint.speakers == names else {
            throw AVPGANError.invalid("the checkpoint was trained on \(checkpoint.speakers.count) speakers (\(checkpoint.speakers.prefix(3).joined(separator: ", ")), ...), the data set has \(names.count) others (\(names.prefix(3).joined(separator: ", ")), ...)")
        }
        trainer = try VoiceEncoderPretrainer(checkpoint: checkpoint)
        sampler = try VoiceBatchSampler(index: index, cache: cache, seed: 0, progress: progress)
        sampler.randomState = checkpoint.rng
        speakerNames = names
        step = checkpoint.step
        self.batchSize = batchSize
    }

    /// Held-out utterances (one per speaker with at least two recordings with speech).
    public var heldOutCount: Int { sampler.heldOut.count }

    /// One step; returns the loss and how many of the batch's crops were classified correctly.
    /// Data parallel (`distribute`): every rank draws the whole batch alike and trains on its
    /// rows; the loss and count are the whole batch's.
    public func next() throws -> (loss: Float, correct: Int) {
        let rows = trainer.reducer.map { BatchSlice.rows(batch: batchSize, rank: $0.rank, size: $0.size) } ?? 0..<batchSize
        let batch = sampler.next(batch: batchSize, rows: rows)
        let result = try batch.voices.withUnsafeBufferPointer {
            try trainer.step(voices: $0.baseAddress!, frames: batch.frames, labels: batch.labels)
        }
        step += 1
        return result
    }

    public func checkpoint() -> VoiceTrainingCheckpoint {
        trainer.checkpoint(step: step, rng: sampler.randomState, speakers: speakerNames)
    }

    /// The encoder-only model file of the current state.
    public func exportModel() throws -> [UInt8] { try checkpoint().exportModel() }

    /// Speaker accuracy on the held-out utterances, as inference sees them: the exported model
    /// (BatchNorm with the running statistics) embeds each whole utterance, repeated and cut to
    /// 1000 frames when shorter (the front end's rule), and the head's argmax on the unit
    /// embedding names the speaker (the same argmax as on the unnormalised mean: no bias).
    public func heldOutAccuracy() throws -> (correct: Int, total: Int) {
        let model = try Model(bytes: try exportModel())
        let e = config.embedDim, s = trainer.speakers, w = trainer.head.value.pointer
        var correct = 0
        var embedding = [Float](repeating: 0, count: e)
        for (label, u) in sampler.heldOut {
            let frames = max(u.frames, LogMelExtractor.minimumFrames)
            let bands = LogMelExtractor.bands
            var values = [Float](repeating: 0, count: frames * bands)
            for f in 0..<frames { for m in 0..<bands { values[f * bands + m] = u.values[(f % u.frames) * bands + m] } }
            try model.embed(features: values, frames: frames, melBands: bands, into: &embedding)
            var best = 0, bestScore = -Float.infinity
            for k in 0..<s {
                var score: Float = 0
                for i in 0..<e { score += w[k * e + i] * embedding[i] }
                if score > bestScore { best = k; bestScore = score }
            }
            if best == label { correct += 1 }
        }
        return (correct, sampler.heldOut.count)
    }
}

extension TrainingRun.Widths {
    /// Voice-encoder conv widths: the paper's `[256, 384, 576, 864]` or the test size.
    public var voice: [Int] { self == .full ? [256, 384, 576, 864] : [32, 48, 64, 96] }
    /// Embedding size: 64 (full) or 16 (tiny), as the reference's `FULL` and `TINY`.
    public var embed: Int { self == .full ? 64 : 16 }
}
