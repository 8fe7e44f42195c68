/// The voice encoder in training mode (docs/training-design.md, "Voice-encoder pre-training"):
/// the reference's `VoiceEncoder.model` — Conv1d(k3 s2 p1, no bias) + BatchNorm1d + ReLU blocks
/// and a final Conv1d(k3 s2 p1) with bias — then the mean over time, WITHOUT the L2
/// normalisation (Voice2Face's `VoiceEmbedNet` ends at the time mean; its training code
/// normalises outside the network, and a bias-free head's argmax does not depend on it).
///
/// BatchNorm uses the batch statistics and updates the running ones as torch's train mode does
/// (momentum 0.1, unbiased running variance). Activations are CNHW `[C, N, 1, T]`: one crop
/// length T per batch. Every buffer of a forward and its backward lives in a reused
/// `Workspace`, so a steady-state step allocates nothing; the GEMMs run on OpenBLAS, split
/// over the library's threads by blocks of output channels, BatchNorm and ReLU by channels.
/// One thread at a time; a forward's `Tape` is valid until the next forward.
final class TrainableVoiceEncoder {
    struct Block {
        let inChannels: Int
        let outChannels: Int
        /// Conv1d weight `[out, in, 3]`.
        let weight: TrainedParameter
        let gamma: TrainedParameter
        let beta: TrainedParameter
        let runningMean: FloatStorage
        let runningVar: FloatStorage
    }

    /// Where one forward left its maps (pointers into the encoder's workspace).
    struct Tape {
        let batch: Int
        /// Time lengths: `lengths[0]` the crop, `lengths[i + 1]` after conv `i`; the last is the
        /// final conv's output length.
        let lengths: [Int]
        /// The input of each conv (`x0` `[nMels, N, T]`, then each block's ReLU output).
        let inputs: [UnsafeMutablePointer<Float>]
        /// Each block's conv output (BatchNorm's input).
        let convOutputs: [UnsafeMutablePointer<Float>]
        let saveMean: [UnsafeMutablePointer<Float>]
        let saveInvStd: [UnsafeMutablePointer<Float>]
        /// The time mean of the final conv's output, `[E, N]` (CNHW).
        let embedding: UnsafeMutablePointer<Float>
    }

    static let geometry = ConvGeometry.line(3, stride: 2, padding: 1)

    let nMels: Int
    let embedDim: Int
    let blocks: [Block]
    /// Final Conv1d `[E, last, 3]` and its bias `[E]`.
    let finalWeight: TrainedParameter
    let finalBias: TrainedParameter
    let batchNorm: BatchNormTraining
    /// torch's `num_batches_tracked` (the same for every BatchNorm; not used with momentum 0.1).
    var batchesTracked = 0
    /// Data parallelism: with ranks, a forward's `batch` is this rank's rows of a global batch
    /// of `globalBatch` rows, and BatchNorm is synchronised over them (`BatchNormTraining.Ranks`):
    /// forward and backward are then collective calls.
    var ranks: (reducer: GradientReducer, globalBatch: Int)?
    /// Every trained tensor, in layout order.
    let parameters: [TrainedParameter]
    private let workspace = Workspace()

    /// From tensors under the model file's names (`voice_encoder.model.*`, docs/model-format.md).
    init(nMels: Int, embedDim: Int, widths: [Int], tensors: [String: [Float]], batchNormEps: Float = 1e-5) throws {
        self.nMels = nMels
        self.embedDim = embedDim
        var parameters: [TrainedParameter] = []
        func values(_ name: String, _ count: Int) throws -> [Float] {
            guard let v = tensors[name] else { throw AVPGANError.invalid("voice-encoder tensors lack \(name)") }
            guard v.count == count else { throw AVPGANError.invalid("voice-encoder tensor \(name) has \(v.count) values, expected \(count)") }
            return v
        }
        func parameter(_ name: String, _ shape: [Int]) throws -> TrainedParameter {
            let p = try TrainedParameter(name: name, shape: shape, values: values(name, shape.reduce(1, *)))
            parameters.append(p)
            return p
        }
        var blocks: [Block] = []
        var c = nMels
        for (i, o) in widths.enumerated() {
            let conv = "voice_encoder.model.\(3 * i)", bn = "voice_encoder.model.\(3 * i + 1)"
            let weight = try parameter("\(conv).weight", [o, c, 3])
            let gamma = try parameter("\(bn).weight", [o]), beta = try parameter("\(bn).bias", [o])
            blocks.append(Block(inChannels: c, outChannels: o, weight: weight, gamma: gamma, beta: beta,
                                runningMean: try FloatStorage(values("\(bn).running_mean", o)),
                                runningVar: try FloatStorage(values("\(bn).running_var", o))))
            c = o
        }
        let last = "voice_encoder.model.\(3 * widths.count)"
        finalWeight = try parameter("\(last).weight", [embedDim, c, 3])
        finalBias = try parameter("\(last).bias", [embedDim])
        self.blocks = blocks
        self.parameters = parameters
        batchNorm = BatchNormTraining(channels: 0, eps: batchNormEps, momentum: 0.1)
    }

    var widths: [Int] { blocks.map(\.outChannels) }

    /// The current tensors under the model file's names (parameters and running statistics).
    var tensors: [String: [Float]] {
        var out: [String: [Float]] = [:]
        for p in parameters { out[p.name] = p.value.array }
        for (i, b) in blocks.enumerated() {
            out["voice_encoder.model.\(3 * i + 1).running_mean"] = b.runningMean.array
            out["voice_encoder.model.\(3 * i + 1).running_var"] = b.runningVar.array
        }
        return out
    }

    func zeroGrad() { parameters.forEach { $0.zeroGrad() } }
    func step() { parameters.forEach { $0.step() } }

    private static func outLength(_ t: Int) -> Int { (t - 1) / 2 + 1 }

    /// Forward in training mode of `voices` `[n, frames, nMels]` (frame-major, the library's
    /// feature layout); updates the running statistics. The tape's embedding is `[E, n]`.
    func forward(voices: UnsafePointer<Float>, batch n: Int, frames t: Int) throws -> Tape {
        precondition(n >= 1 && t >= 1)
        var lengths = [t]
        for _ in 0...blocks.count { lengths.append(TrainableVoiceEncoder.outLength(lengths.last!)) }
        let whole = ranks?.globalBatch ?? n
        guard whole * lengths[blocks.count] > 1 else {
            throw AVPGANError.invalid("a batch of \(whole) crops of \(t) frames leaves one value per channel for the last BatchNorm; use more crops or frames")
        }
        var cols = 0
        var c = nMels
        for (i, o) in (widths + [embedDim]).enumerated() {
            cols = max(cols, c * 3 * n * lengths[i + 1])
            c = o
        }
        _ = try workspace.slot(0, count: cols)
        let x0 = try workspace.slot(1, count: nMels * n * t)
        // [n, t, nMels] -> [nMels, n, t], each thread a block of bands.
        parallelFor(nMels, costPerItem: n * t) { m in
            for b in 0..<n {
                let dst = x0 + (m * n + b) * t, src = voices + b * t * nMels + m
                for f in 0..<t { dst[f] = src[f * nMels] }
            }
        }
        var tracked = 0
        var inputs = [x0], convOutputs: [UnsafeMutablePointer<Float>] = []
        var saveMean: [UnsafeMutablePointer<Float>] = [], saveInvStd: [UnsafeMutablePointer<Float>] = []
        for (i, block) in blocks.enumerated() {
            let (o, len) = (block.outChannels, lengths[i + 1])
            let z = try workspace.slot(2 + 4 * i, count: o * n * len)
            let y = try workspace.slot(3 + 4 * i, count: o * n * len)
            let stats = try workspace.slot(4 + 4 * i, count: 2 * o)
            let x = FeatureMap(data: inputs[i], channels: block.inChannels, batch: n, height: 1, width: lengths[i])
            let zMap = FeatureMap(data: z, channels: o, batch: n, height: 1, width: len)
            let yMap = FeatureMap(data: y, channels: o, batch: n, height: 1, width: len)
            conv(block.weight.value, block.inChannels, o).forward(x, into: zMap, cols: try workspace.slot(0, count: cols))
            var bn = batchNorm
            bn.channels = o
            if let across = try synchronised(o, length: len) {
                try bn.forward(zMap, into: yMap, gamma: block.gamma.value.pointer, beta: block.beta.value.pointer,
                               runningMean: block.runningMean.pointer, runningVar: block.runningVar.pointer,
                               numBatchesTracked: &tracked, saveMean: stats, saveInvStd: stats + o, across: across)
            } else {
                bn.forward(zMap, into: yMap, gamma: block.gamma.value.pointer, beta: block.beta.value.pointer,
                           runningMean: block.runningMean.pointer, runningVar: block.runningVar.pointer,
                           numBatchesTracked: &tracked, saveMean: stats, saveInvStd: stats + o)
            }
            parallelFor(o, costPerItem: n * len) { ch in
                let p = y + ch * n * len
                for k in 0..<(n * len) where !(p[k] > 0) { p[k] = 0 }
            }
            inputs.append(y)
            convOutputs.append(z)
            saveMean.append(stats)
            saveInvStd.append(stats + o)
        }
        batchesTracked += 1  // each BatchNorm module counts this forward once
        let L = blocks.count, outLen = lengths[L + 1]
        let out = try workspace.slot(2 + 4 * L, count: embedDim * n * outLen)
        let last = blocks.last?.outChannels ?? nMels
        conv(finalWeight.value, last, embedDim).forward(
            FeatureMap(data: inputs[L], channels: last, batch: n, height: 1, width: lengths[L]),
            into: FeatureMap(data: out, channels: embedDim, batch: n, height: 1, width: outLen),
            epilogue: Epilogue(scale: nil, shift: finalBias.value, activation: .identity), cols: try workspace.slot(0, count: cols))
        let embedding = try workspace.slot(3 + 4 * L, count: embedDim * n)
        Reductions.timeMean(out, channels: embedDim * n, length: outLen, into: embedding)
        return Tape(batch: n, lengths: lengths, inputs: inputs, convOutputs: convOutputs, saveMean: saveMean,
                    saveInvStd: saveInvStd, embedding: embedding)
    }

    /// Backward of `tape`'s forward from dL/d(embedding) `[E, n]`: parameter gradients are ADDED.
    func backward(_ tape: Tape, gradEmbedding: UnsafePointer<Float>) throws {
        let n = tape.batch, L = blocks.count, lengths = tape.lengths
        let widest = zip([nMels] + widths + [embedDim], lengths).map { $0 * n * $1 }.max()!
        let colsCount = zip([nMels] + widths, lengths.dropFirst()).map { $0 * 3 * n * $1 }.max()!
        let cols = try workspace.slot(0, count: colsCount)
        var dy = try workspace.slot(4 * L + 4, count: widest)
        var dx = try workspace.slot(4 * L + 5, count: widest)
        // Time mean: every position of (e, b) gets dL/dh[e, b] / T.
        let outLen = lengths[L + 1]
        Reductions.timeMeanBackward(gradEmbedding, rows: embedDim * n, length: outLen, into: dy)
        let last = blocks.last?.outChannels ?? nMels
        conv(finalWeight.value, last, embedDim).backward(
            input: FeatureMap(data: tape.inputs[L], channels: last, batch: n, height: 1, width: lengths[L]),
            gradOutput: FeatureMap(data: dy, channels: embedDim, batch: n, height: 1, width: outLen),
            gradInput: L > 0 ? FeatureMap(data: dx, channels: last, batch: n, height: 1, width: lengths[L]) : nil,
            gradWeight: finalWeight.grad.pointer, gradBias: finalBias.grad.pointer, cols: cols)
        swap(&dx, &dy)
        for i in stride(from: L - 1, through: 0, by: -1) {
            let block = blocks[i], o = block.outChannels, len = lengths[i + 1]
            let y = tape.inputs[i + 1]
            let g = FeatureMap(data: dy, channels: o, batch: n, height: 1, width: len)
            // ReLU from its output, then BatchNorm (dz overwrites dy in place).
            parallelFor(o, costPerItem: n * len) { ch in
                let p = y + ch * n * len, d = dy + ch * n * len
                for k in 0..<(n * len) where !(p[k] > 0) { d[k] = 0 }
            }
            var bn = batchNorm
            bn.channels = o
            let z = FeatureMap(data: tape.convOutputs[i], channels: o, batch: n, height: 1, width: len)
            if let across = try synchronised(o, length: len) {
                try bn.backward(input: z, gradOutput: g, gradInput: g, gamma: block.gamma.value.pointer, saveMean: tape.saveMean[i],
                                saveInvStd: tape.saveInvStd[i], gradGamma: block.gamma.grad.pointer, gradBeta: block.beta.grad.pointer,
                                across: across)
            } else {
                bn.backward(input: z, gradOutput: g, gradInput: g, gamma: block.gamma.value.pointer, saveMean: tape.saveMean[i],
                            saveInvStd: tape.saveInvStd[i], gradGamma: block.gamma.grad.pointer, gradBeta: block.beta.grad.pointer)
            }
            conv(block.weight.value, block.inChannels, o).backward(
                input: FeatureMap(data: tape.inputs[i], channels: block.inChannels, batch: n, height: 1, width: lengths[i]),
                gradOutput: g,
                gradInput: i > 0 ? FeatureMap(data: dx, channels: block.inChannels, batch: n, height: 1, width: lengths[i]) : nil,
                gradWeight: block.weight.grad.pointer, gradBias: nil, cols: cols)
            swap(&dx, &dy)
        }
    }

    /// The synchronised-BatchNorm set-up of a layer of `channels` at time length `length`, nil
    /// when this encoder trains alone. Its scratch is the workspace's last slot.
    private func synchronised(_ channels: Int, length: Int) throws -> BatchNormTraining.Ranks? {
        guard let ranks else { return nil }
        return BatchNormTraining.Ranks(reducer: ranks.reducer, count: ranks.globalBatch * length,
                                       scratch: try workspace.slot(4 * blocks.count + 6, count: 2 * channels + 1))
    }

    private func conv(_ weight: FloatStorage, _ c: Int, _ o: Int) -> Conv2d {
        Conv2d(weight: weight, inChannels: c, outChannels: o, geometry: TrainableVoiceEncoder.geometry)
    }
}
