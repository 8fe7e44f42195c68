extension VGG19Features {
    /// Reverse mode of `forward` with respect to the input images only (the weights are
    /// frozen). `tapGradients[i]` is dL/d(pre-ReLU output of convolution i), CNHW like
    /// `tape.features(i)`, for the tapped convolutions; the deepest one run must be tapped.
    /// `gradImages` (NCHW `[batch, 3, height, width]`) is OVERWRITTEN with dL/dimages.
    /// Uses the tape's workspace for its buffers (the tape's features stay intact).
    func backward(tape: Tape, tapGradients: [Int: UnsafePointer<Float>], into gradImages: UnsafeMutablePointer<Float>) throws {
        let depth = tape.depth
        guard let deepest = tapGradients[depth - 1] else {
            preconditionFailure("the deepest convolution run (\(depth - 1)) has no gradient: run a shallower forward")
        }
        precondition(tapGradients.keys.allSatisfy { $0 < depth })
        let batch = tape.batch, ws = tape.workspace
        let largest = max(3 * batch * tape.height * tape.width, tape.maps.map { $0.channels * $0.row }.max() ?? 0)
        let dz = try ws.slot(Slot.gradA, count: largest)
        let dx = try ws.slot(Slot.gradB, count: largest)
        var colsCount = 0
        for i in 0..<depth {
            let s = Self.side(before: i, tape.height), t = Self.side(before: i, tape.width)
            colsCount = max(colsCount, convs[i].backwardScratchCount(batch: batch, h: s, w: t))
        }
        let cols = try ws.slot(Slot.cols, count: colsCount)
        let top = tape.maps[depth - 1]
        dz.update(from: deepest, count: top.channels * top.row)
        for i in stride(from: depth - 1, through: 0, by: -1) {
            let z = tape.maps[i]
            let h = Self.side(before: i, tape.height), w = Self.side(before: i, tape.width)
            let inMap = FeatureMap(data: dx, channels: convs[i].inChannels, batch: batch, height: h, width: w)
            // The input itself is not read without a weight gradient: its map gives the shape.
            convs[i].backward(input: inMap, gradOutput: FeatureMap(data: dz, channels: z.channels, batch: batch, height: z.height, width: z.width),
                              gradInput: inMap, gradWeight: nil, gradBias: nil, cols: cols)
            if i == 0 { break }
            let below = tape.maps[i - 1]
            let count = below.channels * below.row
            if Self.poolFollows(i - 1) {
                ReLUMaxPool2x2.backward(dx, input: below.data, planes: below.channels * batch, h: below.height, w: below.width, into: dz)
            } else {
                let zb = below.data
                parallelBlocks(count, costPerItem: 1) { r in for j in r { dz[j] = zb[j] > 0 ? dx[j] : 0 } }
            }
            if let g = tapGradients[i - 1] {
                parallelBlocks(count, costPerItem: 1) { r in for j in r { dz[j] += g[j] } }
            }
        }
        // Through (x - mean) / std and, for [-1, 1] input, (x + 1) / 2, in torch's order; CNHW to NCHW.
        let plane = tape.height * tape.width
        for c in 0..<3 {
            let s = Self.std[c]
            for n in 0..<batch {
                let src = dx + (c * batch + n) * plane, dst = gradImages + (n * 3 + c) * plane
                switch inputRange {
                case .minusOneToOne: for i in 0..<plane { dst[i] = src[i] / s / 2 }
                case .zeroToOne: for i in 0..<plane { dst[i] = src[i] / s }
                }
            }
        }
    }
}
