#if canImport(Glibc)
import Glibc
#endif

/// Voice-encoder pre-training as a speaker classifier, as Voice2Face did before Algorithm 1:
/// `logits = W · mean_t(e.model(voice))`, cross-entropy over the training speakers, Adam on the
/// encoder and the head together. The trained encoder is then frozen for Algorithm 1.
///
/// The head: `speaker_head.weight` `[speakers, E]`, a Linear **without bias** on the time mean
/// **before** the L2 normalisation, because
/// - Voice2Face's heads (`Classifier` in its network.py, the reference's `Head`) are bias-free,
///   and its `VoiceEmbedNet` ends at the time mean (the normalisation is applied outside);
/// - without a bias, `argmax W h = argmax W (h / ‖h‖)`: the decision depends only on the
///   direction of h, i.e. on exactly the unit embedding the GAN consumes, so the speakers are
///   separated in that space; and the logits' scale stays free (on the unit vector it would be
///   capped at ‖W row‖, which Adam at lr 2e-4 grows only slowly).
///
/// Optimiser: Adam with the recipe's lr 2e-4 and betas (0.5, 0.999) (Voice2Face's config uses
/// them for every network), eps 1e-8; `lr` is a parameter (`avpgan train-voice --lr`).
final class VoiceEncoderPretrainer {
    static let headName = "speaker_head.weight"

    let config: ModelConfig
    let speakers: Int
    let encoder: TrainableVoiceEncoder
    let head: TrainedParameter
    var parameters: [TrainedParameter] { encoder.parameters + [head] }
    /// Data parallelism: with a reducer, `gradients` and `step` take this rank's rows of a
    /// global batch of `globalBatch` crops, BatchNorm is synchronised over the ranks, and the
    /// gradients left in `grad` (and the loss and count returned) are the whole batch's, the
    /// same on every rank (`distribute`).
    private(set) var reducer: GradientReducer?
    private(set) var globalBatch = 0
    private let packer = GradientPacker()

    /// Makes this trainer one rank of data-parallel training at a global batch of `globalBatch`.
    func distribute(over reducer: GradientReducer, globalBatch: Int) {
        self.reducer = reducer
        self.globalBatch = globalBatch
        encoder.ranks = (reducer, globalBatch)
    }

    /// From the encoder's tensors (model-file names) and `speaker_head.weight`; `config` is
    /// encoder-only (`ModelConfig.voiceEncoderOnly`).
    init(config: ModelConfig, speakers: Int, tensors: [String: [Float]], lr: Double = 2e-4,
         beta1: Double = 0.5, beta2: Double = 0.999, eps: Double = 1e-8) throws {
        guard speakers >= 2 else { throw AVPGANError.invalid("speaker classification needs at least 2 speakers, got \(speakers)") }
        self.config = config
        self.speakers = speakers
        encoder = try TrainableVoiceEncoder(nMels: config.nMels, embedDim: config.embedDim, widths: config.voiceWidths,
                                            tensors: tensors, batchNormEps: config.batchNormEps)
        guard let w = tensors[VoiceEncoderPretrainer.headName], w.count == speakers * config.embedDim else {
            throw AVPGANError.invalid("\(VoiceEncoderPretrainer.headName) is missing or is not [\(speakers), \(config.embedDim)]")
        }
        head = try TrainedParameter(name: VoiceEncoderPretrainer.headName, shape: [speakers, config.embedDim], values: w)
        for p in parameters {
            p.adam.lr = lr; p.adam.beta1 = beta1; p.adam.beta2 = beta2; p.adam.eps = eps
        }
    }

    /// Fresh tensors drawn from torch's default initialisation (seeded): conv weights and biases
    /// and the head uniform in ±1/sqrt(fan_in); BatchNorm weight 1, bias 0, running mean 0, var 1.
    static func initialTensors(config: ModelConfig, speakers: Int, seed: UInt64) -> [String: [Float]] {
        var rng = SplitMix(seed: seed)
        var out: [String: [Float]] = [:]
        func uniform(_ count: Int, fanIn: Int) -> [Float] {
            let bound = 1 / Float(fanIn).squareRoot()
            return (0..<count).map { _ in (2 * rng.unit() - 1) * bound }
        }
        var c = config.nMels
        for (i, o) in config.voiceWidths.enumerated() {
            let bn = TensorLayout.voiceBatchNorm(i)
            out["\(TensorLayout.voiceConv(i)).weight"] = uniform(o * c * 3, fanIn: c * 3)
            out["\(bn).weight"] = [Float](repeating: 1, count: o)
            out["\(bn).bias"] = [Float](repeating: 0, count: o)
            out["\(bn).running_mean"] = [Float](repeating: 0, count: o)
            out["\(bn).running_var"] = [Float](repeating: 1, count: o)
            c = o
        }
        let last = TensorLayout.voiceConv(config.voiceWidths.count)
        out["\(last).weight"] = uniform(config.embedDim * c * 3, fanIn: c * 3)
        out["\(last).bias"] = uniform(config.embedDim, fanIn: c * 3)
        out[headName] = uniform(speakers * config.embedDim, fanIn: config.embedDim)
        return out
    }

    /// One step on `voices` `[n, frames, nMels]` (frame-major) with speaker `labels` `[n]`
    /// (indices `0..<speakers`): `gradients`, then Adam on the encoder and the head.
    /// Returns the loss (mean over the batch) and how many crops the head classified correctly
    /// (argmax of the logits before the update).
    func step(voices: UnsafePointer<Float>, frames: Int, labels: [Int]) throws -> (loss: Float, correct: Int) {
        let result = try gradients(voices: voices, frames: frames, labels: labels)
        encoder.step()
        head.step()
        return result
    }

    /// zero_grad, forward in train mode (running statistics updated), cross-entropy, backward:
    /// leaves dLoss/dθ in every parameter's `grad`. Returns the loss and the correct count.
    /// With a reducer (collective): `labels` are this rank's rows, and the gradients, loss and
    /// count are the whole global batch's.
    func gradients(voices: UnsafePointer<Float>, frames: Int, labels: [Int]) throws -> (loss: Float, correct: Int) {
        let n = labels.count, e = config.embedDim
        if reducer != nil && !(1...globalBatch).contains(n) {
            throw AVPGANError.invalid("this rank has \(n) crops of a global batch of \(globalBatch); expected 1...\(globalBatch)")
        }
        // The whole batch's loss is the ranks' local means weighted by their shares of the rows.
        let share = reducer == nil ? 1 : Float(n) / Float(globalBatch)
        if let bad = labels.first(where: { !(0..<speakers).contains($0) }) {
            throw AVPGANError.invalid("speaker label \(bad) is outside 0..<\(speakers)")
        }
        encoder.zeroGrad()
        head.zeroGrad()
        let tape = try encoder.forward(voices: voices, batch: n, frames: frames)
        // [E, n] -> [n, E] for the head.
        var h = [Float](repeating: 0, count: n * e)
        for b in 0..<n { for i in 0..<e { h[b * e + i] = tape.embedding[i * n + b] } }
        let linear = Linear(weight: head.value, bias: nil, inFeatures: e, outFeatures: speakers)
        var logits = [Float](repeating: 0, count: n * speakers)
        linear.forward(h, batch: n, into: &logits)
        var correct = 0
        for b in 0..<n {
            let row = logits[(b * speakers)..<((b + 1) * speakers)]
            if row.indices.max(by: { row[$0] < row[$1] })! - b * speakers == labels[b] { correct += 1 }
        }
        var dLogits = [Float](repeating: 0, count: n * speakers)
        let loss = Losses.crossEntropy(logits: logits, labels: labels, classes: speakers, gradLogits: &dLogits)
        // Synchronised BatchNorm's backward needs the whole batch's loss gradient on every rank.
        if reducer != nil { for k in dLogits.indices { dLogits[k] *= share } }
        var dh = [Float](repeating: 0, count: n * e)
        linear.backward(input: h, gradOutput: dLogits, batch: n, gradInput: &dh, gradWeight: head.grad.pointer, gradBias: nil)
        var dEmbedding = [Float](repeating: 0, count: n * e)
        for b in 0..<n { for i in 0..<e { dEmbedding[i * n + b] = dh[b * e + i] } }
        try encoder.backward(tape, gradEmbedding: dEmbedding)
        guard let reducer else { return (loss, correct) }
        var totals: [Float] = [loss * share, Float(correct)]
        try totals.withUnsafeMutableBufferPointer {
            try packer.reduce(parameters, extra: $0.baseAddress!, extraCount: 2, weight: 1, with: reducer)
        }
        return (totals[0], Int(totals[1]))
    }

    /// The current tensors: the encoder's (model-file names) and the head.
    var tensors: [String: [Float]] {
        var out = encoder.tensors
        out[VoiceEncoderPretrainer.headName] = head.value.array
        return out
    }

    /// The checkpoint of the current state (`speakers` the label order's names).
    func checkpoint(step: Int, rng: UInt64, speakers names: [String]) -> VoiceTrainingCheckpoint {
        var m: [String: [Float]] = [:], v: [String: [Float]] = [:]
        for p in parameters {
            m[p.name] = p.adam.expAvg.array
            v[p.name] = p.adam.expAvgSq.array
        }
        let adam = head.adam
        return VoiceTrainingCheckpoint(config: config, speakers: names, tensors: tensors, exp_avg: m, exp_avg_sq: v, step: step,
                                       adamStep: adam.step, lr: adam.lr, beta1: adam.beta1, beta2: adam.beta2, eps: adam.eps,
                                       rng: rng, batchesTracked: encoder.batchesTracked)
    }

    /// A pretrainer in the state of `checkpoint`.
    convenience init(checkpoint c: VoiceTrainingCheckpoint) throws {
        try self.init(config: c.config, speakers: c.speakers.count, tensors: c.tensors, lr: c.lr, beta1: c.beta1, beta2: c.beta2, eps: c.eps)
        for p in parameters { try p.restoreAdam(expAvg: c.exp_avg, expAvgSq: c.exp_avg_sq, step: c.adamStep) }
        encoder.batchesTracked = c.batchesTracked
    }
}
