// Networks/: the three networks of a voice-portrait model, for inference. `VoiceEncoder` (here)
// turns features into a unit embedding, `Generator` an embedding into a face (and
// `PixelMapping` its floats into bytes), `FaceEncoder` a face into an embedding; the
// two convolution stacks share `ConvStack`. The root `Model` loads them from a model file.

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
            let p = TensorLayout.voiceConv(i)
            let conv = Conv2d(weight: try r.storage("\(p).weight"), inChannels: c, outChannels: o,
                              geometry: .line(3, stride: 2, padding: 1))
            let epilogue: Epilogue
            if i < config.voiceWidths.count {
                let bn = TensorLayout.voiceBatchNorm(i)
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

    /// Frames per tile of the encoder (see `embed`): a constant, so that how a recording is
    /// cut into tiles depends on its length alone, never on the thread count.
    static let tileFrames = 8192

    /// The positions each level computes for the last-layer positions `last` (level 0 = the
    /// frames, level l + 1 = the output of block l): a stride-2 k3 p1 output `j` reads inputs
    /// `2j - 1 ... 2j + 1`, so each level's range is the next one's, doubled and widened by one
    /// position on the left (the receptive field), clipped to the signal.
    func ranges(last: Range<Int>, lengths: [Int]) -> [Range<Int>] {
        var r = [Range<Int>](repeating: 0..<0, count: lengths.count)
        r[lengths.count - 1] = last
        for l in stride(from: lengths.count - 1, to: 0, by: -1) {
            r[l - 1] = max(2 * r[l].lowerBound - 1, 0)..<min(2 * r[l].upperBound, lengths[l - 1])
        }
        return r
    }

    /// Embeds `frames` frames of features into `out[embedDim]`.
    ///
    /// The computation is defined in tiles: the last layer's positions are cut into runs of
    /// `tileFrames >> layers` (from position 0; the last run may be shorter), and each run is
    /// computed by every layer over just the positions it reads (`ranges`), with zeros outside
    /// the signal as the padding gives. Every output position therefore sees exactly the
    /// inputs of the whole-signal network; the time mean runs over the whole last-layer output.
    /// Up to `tileFrames` frames (about 80 s of voice; models of up to 13 layers) are one tile:
    /// the same im2col columns and the same GEMM calls as the whole-signal network, bit for
    /// bit. Longer inputs differ from the whole-signal GEMMs in the last bits (OpenBLAS's result
    /// for a column depends on the shape of the call), but the tiles, and so the results, are
    /// the same at any thread count and on every run (VoiceEncoderTests).
    ///
    /// Memory: a tile's buffers (each im2col built straight from the previous level, the first
    /// from the frame-major features) plus the last layer's output, `embedDim x frames / 2^layers`
    /// floats; not a whole-signal copy of any layer.
    func embed(_ features: UnsafePointer<Float>, frames: Int, workspace: Workspace, into out: UnsafeMutablePointer<Float>) throws {
        // lengths[l]: positions at level l (0 = the frames, l + 1 = the output of block l).
        var lengths = [frames]
        for _ in blocks { lengths.append((lengths.last! - 1) / 2 + 1) }
        let layers = blocks.count, lastLength = lengths[layers]
        let tile = max(1, Self.tileFrames >> layers)
        let tiles = stride(from: 0, to: lastLength, by: tile).map { $0..<min($0 + tile, lastLength) }
        // Intermediate levels alternate between two buffers; each buffer and the im2col are
        // sized to the largest use over all tiles.
        var sizes = [1, 1], colsNeeded = 1
        for t in tiles {
            let r = ranges(last: t, lengths: lengths)
            for (l, block) in blocks.enumerated() {
                if l + 1 < layers { sizes[l % 2] = max(sizes[l % 2], block.conv.outChannels * r[l + 1].count) }
                colsNeeded = max(colsNeeded, block.conv.inChannels * 3 * r[l + 1].count)
            }
        }
        let buffers = [try workspace.slot(0, count: sizes[0]), try workspace.slot(1, count: sizes[1])]
        let cols = try workspace.slot(2, count: colsNeeded)
        let last = try workspace.slot(3, count: embedDim * lastLength)

        for t in tiles {
            let r = ranges(last: t, lengths: lengths)
            for (l, block) in blocks.enumerated() {
                let n = r[l + 1].count, first = r[l + 1].lowerBound, length = lengths[l]
                // Column j of row (c, tap) holds level l's position 2 (first + j) - 1 + tap (0 outside).
                if l == 0 {
                    let bands = nMels
                    parallelFor(bands * 3, costPerItem: n) { row in
                        let m = row / 3, tap = row % 3
                        let dst = cols + row * n
                        for j in 0..<n {
                            let p = 2 * (first + j) - 1 + tap
                            dst[j] = p >= 0 && p < length ? features[p * bands + m] : 0
                        }
                    }
                } else {
                    let source = buffers[(l - 1) % 2], width = r[l].count, origin = r[l].lowerBound
                    parallelFor(block.conv.inChannels * 3, costPerItem: n) { row in
                        let c = row / 3, tap = row % 3
                        let dst = cols + row * n
                        var lo = 0, hi = n
                        while lo < hi && 2 * (first + lo) - 1 + tap < 0 { lo += 1 }
                        while hi > lo && 2 * (first + hi - 1) - 1 + tap >= length { hi -= 1 }
                        if lo > 0 { dst.update(repeating: 0, count: lo) }
                        if hi < n { (dst + hi).update(repeating: 0, count: n - hi) }
                        if lo < hi {
                            // src[2 j] is position 2 (first + j) - 1 + tap.
                            let src = UnsafePointer(source + c * width + (2 * first - 1 + tap - origin))
                            Im2col.gatherEven(src, into: dst, lo, hi)
                        }
                    }
                }
                let x = FeatureMap(data: UnsafeMutablePointer(mutating: features), channels: block.conv.inChannels,
                                   batch: 1, height: 1, width: r[l].count)
                let y = l + 1 == layers
                    ? FeatureMap(data: last + first, channels: embedDim, batch: 1, height: 1, width: n, stride: lastLength)
                    : FeatureMap(data: buffers[l % 2], channels: block.conv.outChannels, batch: 1, height: 1, width: n)
                block.conv.forward(x, into: y, epilogue: block.epilogue, cols: cols, gathered: true)
            }
        }
        Reductions.timeMean(last, channels: embedDim, length: lastLength, into: out)
        Reductions.l2Normalize(out, count: embedDim)
    }
}
