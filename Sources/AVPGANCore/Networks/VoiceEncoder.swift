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
    ///
    /// Memory: the first layer's im2col (`3 x nMels x frames / 2` floats) is built straight from
    /// the frame-major features (no channels-first copy), and each layer's output has a buffer of
    /// its own size. Every GEMM runs over the whole signal: OpenBLAS's result for a column
    /// depends on the other columns of the call, so computing the layers in tiles would change
    /// the last bits of the embedding (VoiceEncoderTests).
    func embed(_ features: UnsafePointer<Float>, frames: Int, workspace: Workspace, into out: UnsafeMutablePointer<Float>) throws {
        // lengths[l]: positions at level l (0 = the frames, l + 1 = the output of block l).
        var lengths = [frames]
        for _ in blocks { lengths.append((lengths.last! - 1) / 2 + 1) }
        // Outputs alternate between two buffers, each as large as its largest output.
        var sizes = [1, 1], colsNeeded = 0
        for (l, block) in blocks.enumerated() {
            sizes[l % 2] = max(sizes[l % 2], block.conv.outChannels * lengths[l + 1])
            colsNeeded = max(colsNeeded, block.conv.scratchCount(batch: 1, h: 1, w: lengths[l]))
        }
        let buffers = [try workspace.slot(0, count: sizes[0]), try workspace.slot(1, count: sizes[1])]
        let cols = try workspace.slot(2, count: colsNeeded)

        // The first layer's columns: row (m, tap), column j holds frame 2j - 1 + tap, band m (0 outside).
        let first = lengths[1], bands = nMels
        parallelFor(bands * 3, costPerItem: first) { r in
            let m = r / 3, tap = r % 3
            let row = cols + r * first
            for j in 0..<first {
                let t = 2 * j - 1 + tap
                row[j] = t >= 0 && t < frames ? features[t * bands + m] : 0
            }
        }
        var x = FeatureMap(data: UnsafeMutablePointer(mutating: features), channels: nMels, batch: 1, height: 1, width: frames)
        for (l, block) in blocks.enumerated() {
            let y = FeatureMap(data: buffers[l % 2], channels: block.conv.outChannels, batch: 1, height: 1, width: lengths[l + 1])
            block.conv.forward(x, into: y, epilogue: block.epilogue, cols: cols, gathered: l == 0)
            x = y
        }
        Reductions.timeMean(x.data, channels: embedDim, length: x.width, into: out)
        Reductions.l2Normalize(out, count: embedDim)
    }
}
