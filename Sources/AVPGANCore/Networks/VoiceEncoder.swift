/// The voice encoder of the reference: Conv1d(k3 s2 p1, no bias) + BatchNorm + ReLU blocks,
/// a final Conv1d(k3 s2 p1) with bias, the mean over time and L2 normalisation.
/// Input: log-mel features `[frames, nMels]` frame-major; output: `embedDim` floats, unit length.
final class VoiceEncoder {
    struct Block {
        let conv: Conv2d
        let epilogue: Epilogue
    }

    let nMels: Int
    let embedDim: Int
    let blocks: [Block]

    init(_ r: WeightReader) throws {
        let config = r.config
        nMels = config.nMels
        embedDim = config.embedDim
        var blocks: [Block] = []
        var c = config.nMels
        let widths = config.voiceWidths + [config.embedDim]
        for (i, o) in widths.enumerated() {
            let p = "voice_encoder.model.\(3 * i)"
            let conv = Conv2d(weight: try r.storage("\(p).weight"), inChannels: c, outChannels: o,
                              geometry: .line(3, stride: 2, padding: 1))
            let epilogue: Epilogue
            if i < config.voiceWidths.count {
                let bn = "voice_encoder.model.\(3 * i + 1)"
                let (scale, shift) = try BatchNorm.fold(
                    gamma: r.floats("\(bn).weight"), beta: r.floats("\(bn).bias"),
                    mean: r.floats("\(bn).running_mean"), variance: r.floats("\(bn).running_var"),
                    eps: config.batchNormEps)
                epilogue = Epilogue(scale: scale, shift: shift, activation: .relu)
            } else {
                epilogue = Epilogue(scale: nil, shift: try r.storage("\(p).bias"), activation: .identity)
            }
            blocks.append(Block(conv: conv, epilogue: epilogue))
            c = o
        }
        self.blocks = blocks
    }

    var parameterCount: Int {
        blocks.reduce(0) { $0 + $1.conv.weight.count + ($1.epilogue.shift?.count ?? 0) * ($1.epilogue.scale == nil ? 1 : 4) }
    }

    /// Embeds `frames` frames of features into `out[embedDim]`.
    func embed(_ features: UnsafePointer<Float>, frames: Int, workspace: Workspace, into out: UnsafeMutablePointer<Float>) throws {
        // Sizes along the way, to size the scratch once.
        var lengths = [frames]
        for _ in blocks { lengths.append((lengths.last! - 1) / 2 + 1) }
        let widest = zip(blocks, lengths).map { $0.conv.outChannels * ((($1 - 1) / 2) + 1) }.max() ?? 0
        let colsNeeded = zip(blocks, lengths).map { $0.conv.scratchCount(batch: 1, h: 1, w: $1) }.max() ?? 0
        var current = try workspace.slot(0, count: max(nMels * frames, widest))
        var next = try workspace.slot(1, count: max(nMels * frames, widest))
        let cols = try workspace.slot(2, count: colsNeeded)

        // [frames, nMels] -> [nMels, frames] (channels first, as torch's [N, C, T]).
        for t in 0..<frames { for m in 0..<nMels { current[m * frames + t] = features[t * nMels + m] } }
        var x = FeatureMap(data: current, channels: nMels, batch: 1, height: 1, width: frames)
        for block in blocks {
            let y = FeatureMap(data: next, channels: block.conv.outChannels, batch: 1, height: 1, width: (x.width - 1) / 2 + 1)
            block.conv.forward(x, into: y, epilogue: block.epilogue, cols: cols)
            x = y
            swap(&current, &next)
        }
        Reductions.timeMean(x.data, channels: embedDim, length: x.width, into: out)
        Reductions.l2Normalize(out, count: embedDim)
    }
}
