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

    /// Final-layer positions computed per tile: the first layer then reads about
    /// `tilePositions x 2^layers` frames at a time.
    static let tileFrames = 8192

    /// Embeds `frames` frames of features into `out[embedDim]`.
    ///
    /// Memory is bounded by a tile, not by the recording: the last layer's output (`embedDim x
    /// frames / 2^layers`) is computed a run of positions at a time, each layer computing just the
    /// positions the next one reads (a stride-2 k3 p1 output `j` reads inputs `2j - 1 ... 2j + 1`,
    /// zero outside the signal). Every position's im2col column is the one the whole-signal
    /// convolution builds and goes through the same GEMM row blocks and epilogue, and the time
    /// mean runs over the whole last-layer output, so the embedding does not depend on the tiling.
    func embed(_ features: UnsafePointer<Float>, frames: Int, workspace: Workspace, into out: UnsafeMutablePointer<Float>) throws {
        // Lengths along the way: lengths[0] = frames, lengths[l + 1] = output of block l.
        var lengths = [frames]
        for _ in blocks { lengths.append((lengths.last! - 1) / 2 + 1) }
        let layers = blocks.count
        let lastLength = lengths[layers]
        let tile = max(1, Self.tileFrames >> layers)
        // Scratch for the widest tile: input windows (channels x (2 n + 1)) and im2col columns.
        var widest = 0, colsNeeded = 0
        var need = tile
        for l in stride(from: layers - 1, through: 0, by: -1) {
            let window = 2 * need + 1
            widest = max(widest, blocks[l].conv.inChannels * window)
            colsNeeded = max(colsNeeded, blocks[l].conv.inChannels * 3 * need)
            need = 2 * need + 1  // the outputs of the block before: [2 lo - 1, 2 hi)
        }
        let windowA = try workspace.slot(0, count: widest)
        let windowB = try workspace.slot(1, count: widest)
        let cols = try workspace.slot(2, count: colsNeeded)
        let last = try workspace.slot(3, count: embedDim * lastLength)
        let unpadded = ConvGeometry.line(3, stride: 2, padding: 0)

        var first = 0
        while first < lastLength {
            // Output ranges per level, from the last layer back to the features.
            var lo = [Int](repeating: 0, count: layers + 1), hi = lo
            lo[layers] = first
            hi[layers] = min(first + tile, lastLength)
            for l in stride(from: layers, to: 0, by: -1) {
                lo[l - 1] = max(2 * lo[l] - 1, 0)
                hi[l - 1] = min(2 * hi[l], lengths[l - 1])
            }
            // Block l reads the window [2 lo - 1, 2 hi) of level l (zeros outside the signal).
            var input = windowA, spare = windowB
            let w0 = 2 * (hi[1] - lo[1]) + 1, start0 = 2 * lo[1] - 1
            for m in 0..<nMels {
                let row = input + m * w0
                for i in 0..<w0 {
                    let t = start0 + i
                    row[i] = t >= 0 && t < frames ? features[t * nMels + m] : 0
                }
            }
            for l in 0..<layers {
                let block = blocks[l]
                let count = hi[l + 1] - lo[l + 1]
                let x = FeatureMap(data: input, channels: block.conv.inChannels, batch: 1, height: 1, width: 2 * count + 1)
                let y: FeatureMap
                if l + 1 == layers {
                    y = FeatureMap(data: last + lo[l + 1], channels: embedDim, batch: 1, height: 1, width: count, stride: lastLength)
                } else {
                    // The next window: this block's outputs, with zeros where it reaches past the signal.
                    let width = 2 * (hi[l + 2] - lo[l + 2]) + 1, start = 2 * lo[l + 2] - 1
                    let offset = lo[l + 1] - start
                    if offset > 0 || offset + count < width {
                        for c in 0..<block.conv.outChannels {
                            let row = spare + c * width
                            if offset > 0 { row.update(repeating: 0, count: offset) }
                            if offset + count < width { (row + offset + count).update(repeating: 0, count: width - offset - count) }
                        }
                    }
                    y = FeatureMap(data: spare + offset, channels: block.conv.outChannels, batch: 1, height: 1, width: count, stride: width)
                }
                block.conv.forward(x, geometry: unpadded, into: y, epilogue: block.epilogue, cols: cols,
                                   rowBlocksFor: lengths[l + 1])
                swap(&input, &spare)
            }
            first = hi[layers]
        }
        Reductions.timeMean(last, channels: embedDim, length: lastLength, into: out)
        Reductions.l2Normalize(out, count: embedDim)
    }
}
