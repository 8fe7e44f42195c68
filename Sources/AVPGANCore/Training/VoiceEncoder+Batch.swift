/// The frozen voice encoder of a training step over a whole batch at once.
extension VoiceEncoder {
    /// Embeds `count` voices of `frames` frames each, `features` `[count, frames, nMels]`
    /// frame-major, into `out[count, embedDim]`: what `embed` gives for each voice (unit length),
    /// but with every convolution one CNHW map over the batch (`nMels x count x 1 x frames`), so
    /// its GEMMs are `count` times wider. Each layer's GEMMs run over as many voices as
    /// `Scratch.cols` floats of im2col allow. Scratch: `workspace` slots 0-2.
    func embedBatch(_ features: UnsafePointer<Float>, count n: Int, frames: Int, workspace: Workspace,
                    into out: UnsafeMutablePointer<Float>) throws {
        var lengths = [frames]
        for b in blocks { lengths.append(b.conv.geometry.convOutput(h: 1, w: lengths.last!)!.w) }
        let widest = zip(blocks, lengths.dropFirst()).map { $0.conv.outChannels * $1 }.max() ?? 0
        let colsPerVoice = zip(blocks, lengths).map { $0.conv.scratchCount(batch: 1, h: 1, w: $1) }.max() ?? 0
        let step = max(1, min(n, Scratch.cols / max(colsPerVoice, 1)))
        var current = try workspace.slot(0, count: n * max(nMels * frames, widest))
        var next = try workspace.slot(1, count: n * max(nMels * frames, widest))
        let cols = try workspace.slot(2, count: max(step * colsPerVoice, 1))
        // [n, frames, nMels] -> [nMels, n, frames].
        parallelFor(n, costPerItem: frames * nMels) { b in
            let src = features + b * frames * nMels
            for m in 0..<nMels {
                let dst = current + (m * n + b) * frames
                for t in 0..<frames { dst[t] = src[t * nMels + m] }
            }
        }
        var x = FeatureMap(data: current, channels: nMels, batch: n, height: 1, width: frames)
        for block in blocks {
            let y = FeatureMap(data: next, channels: block.conv.outChannels, batch: n, height: 1,
                               width: block.conv.geometry.convOutput(h: 1, w: x.width)!.w)
            for first in stride(from: 0, to: n, by: step) {
                let voices = first..<min(first + step, n)
                block.conv.forward(x.images(voices), into: y.images(voices), epilogue: block.epilogue, cols: cols)
            }
            x = y
            swap(&current, &next)
        }
        // Per voice: mean over time of its [embedDim, length] block, then unit length.
        let length = x.width
        parallelFor(n, costPerItem: embedDim * length) { b in
            let o = out + b * embedDim
            for c in 0..<embedDim { o[c] = sumAndMax(x.channel(c) + b * length, count: length).sum / Float(length) }
            Reductions.l2Normalize(o, count: embedDim)
        }
    }
}
