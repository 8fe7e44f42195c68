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

    /// Frames the first layer reads per tile (about): `tileFrames >> layers` last-layer positions.
    static let tileFrames = 8192
    /// Every layer computes whole groups of this many positions, aligned as in the whole signal,
    /// so that each GEMM column is computed by the same kind of kernel block as there.
    static let columnAlignment = 64

    /// Embeds `frames` frames of features into `out[embedDim]`.
    ///
    /// Memory is bounded by a tile, not by the recording: the last layer's output (`embedDim x
    /// frames / 2^layers`) is computed a run of positions at a time, each layer computing the
    /// positions the next one reads (a stride-2 k3 p1 output `j` reads inputs `2j - 1 ... 2j + 1`,
    /// zero outside the signal), widened to whole aligned groups of `columnAlignment`. Every
    /// position's im2col column is the one the whole-signal convolution builds and goes through
    /// the same GEMM row blocks and epilogue, and the time mean runs over the whole last-layer
    /// output, so the embedding does not depend on the tiling (VoiceEncoderTilingTests).
    func embed(_ features: UnsafePointer<Float>, frames: Int, workspace: Workspace, into out: UnsafeMutablePointer<Float>) throws {
        // lengths[l]: positions at level l (0 = the frames, l + 1 = the output of block l).
        var lengths = [frames]
        for _ in blocks { lengths.append((lengths.last! - 1) / 2 + 1) }
        let layers = blocks.count, lastLength = lengths[layers], align = Self.columnAlignment
        let tile = max(align, (Self.tileFrames >> layers) / align * align)
        // Level l holds positions [lo, hi) plus a zero column on each side that is outside the
        // signal; the widest such buffer, and the widest im2col, over any tile.
        var widest = 0, colsNeeded = 0, span = tile
        for l in stride(from: layers - 1, through: 0, by: -1) {
            colsNeeded = max(colsNeeded, blocks[l].conv.inChannels * 3 * span)
            span = 2 * span + 1 + 2 * align
            widest = max(widest, blocks[l].conv.inChannels * (span + 2))
        }
        let level = [try workspace.slot(0, count: widest), try workspace.slot(1, count: widest)]
        let cols = try workspace.slot(2, count: colsNeeded)
        let last = try workspace.slot(3, count: embedDim * lastLength)
        let unpadded = ConvGeometry.line(3, stride: 2, padding: 0)

        var first = 0
        while first < lastLength {
            // The positions each level computes, from the last layer back to the frames.
            var lo = [Int](repeating: 0, count: layers + 1), hi = lo
            lo[layers] = first
            hi[layers] = min(first + tile, lastLength)
            for l in stride(from: layers, to: 0, by: -1) {
                lo[l - 1] = max(2 * lo[l] - 1, 0) / align * align
                hi[l - 1] = min((2 * hi[l] + align - 1) / align * align, lengths[l - 1])
            }
            // Level l's buffer: column 0 is position lo - left (left = 1 when that is -1, a zero).
            func left(_ l: Int) -> Int { lo[l] == 0 ? 1 : 0 }
            func width(_ l: Int) -> Int { left(l) + (hi[l] - lo[l]) + (hi[l] == lengths[l] ? 1 : 0) }
            func zeroPads(_ buffer: UnsafeMutablePointer<Float>, level l: Int, channels: Int) {
                let w = width(l), right = w - left(l) - (hi[l] - lo[l])
                for c in 0..<channels {
                    if left(l) > 0 { buffer[c * w] = 0 }
                    if right > 0 { buffer[c * w + w - 1] = 0 }
                }
            }
            // Level 0: the frames lo ..< hi, channels first.
            let input0 = level[0], w0 = width(0)
            zeroPads(input0, level: 0, channels: nMels)
            for m in 0..<nMels {
                let row = input0 + m * w0 + left(0)
                for t in lo[0]..<hi[0] { row[t - lo[0]] = features[t * nMels + m] }
            }
            for l in 0..<layers {
                let block = blocks[l]
                let count = hi[l + 1] - lo[l + 1]
                // Block l reads positions 2 lo' - 1 ..< 2 hi' of level l (lo', hi' of level l + 1).
                let source = level[l % 2], w = width(l)
                let x = FeatureMap(data: source + (2 * lo[l + 1] - 1 - (lo[l] - left(l))), channels: block.conv.inChannels,
                                   batch: 1, height: 1, width: 2 * count + 1, stride: w)
                let y: FeatureMap
                if l + 1 == layers {
                    y = FeatureMap(data: last + lo[l + 1], channels: embedDim, batch: 1, height: 1, width: count, stride: lastLength)
                } else {
                    let target = level[(l + 1) % 2]
                    zeroPads(target, level: l + 1, channels: block.conv.outChannels)
                    y = FeatureMap(data: target + left(l + 1), channels: block.conv.outChannels, batch: 1, height: 1,
                                   width: count, stride: width(l + 1))
                }
                block.conv.forward(x, geometry: unpadded, into: y, epilogue: block.epilogue, cols: cols,
                                   rowBlocksFor: lengths[l + 1])
            }
            first = hi[layers]
        }
        Reductions.timeMean(last, channels: embedDim, length: lastLength, into: out)
        Reductions.l2Normalize(out, count: embedDim)
    }
}
