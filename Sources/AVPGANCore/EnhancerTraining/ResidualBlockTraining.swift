/// Where a U-Net `ResidualBlock`'s gradients are ADDED.
struct ResidualBlockGradients {
    let conv1: PlainConvGradients, conv2: PlainConvGradients, skip: PlainConvGradients
}

/// What a `ResidualBlock`'s training forward keeps for its backward, in caller-owned buffers
/// (sizes from `ResidualBlock.recordCounts`): conv1's output, its resampling, conv2's output
/// (before the skip is added) and the resampled input the skip reads.
struct ResidualBlockRecord {
    let conv1, resized, conv2, shortcut: UnsafeMutablePointer<Float>
}

/// GFPGANv1Clean's U-Net ResBlock for training, one image:
/// `y = lrelu(conv2(resample(lrelu(conv1(x))))) + skip(resample(x))`, resampling bilinear by ½
/// (down) or 2 (up), and its reverse mode. Sides: `side` is the input's, `outSide` the output's.
extension ResidualBlock {
    func outSide(_ side: Int) -> Int { up ? 2 * side : side / 2 }

    /// Floats of the record's four buffers for an input side `side`.
    func recordCounts(side: Int) -> (conv1: Int, resized: Int, conv2: Int, shortcut: Int) {
        let o = outSide(side), c = conv1.inChannels
        return (c * side * side, c * o * o, conv2.outChannels * o * o, c * o * o)
    }

    func trainingForward(_ x: UnsafePointer<Float>, side: Int, record r: ResidualBlockRecord, into y: UnsafeMutablePointer<Float>,
                         threads: Int, scratch: Workspace) throws {
        let o = outSide(side), c = conv1.inChannels
        let resample = try scratch.slot(1, count: 4 * threads * max(side, o))
        try conv1.trainingForward(x, side: side, lrelu: true, into: r.conv1, threads: threads, scratch: scratch)
        Bilinear.resize(r.conv1, channels: c, height: side, width: side, up: up, threads: threads, into: r.resized, scratch: resample)
        try conv2.trainingForward(r.resized, side: o, lrelu: true, into: r.conv2, threads: threads, scratch: scratch)
        Bilinear.resize(x, channels: c, height: side, width: side, up: up, threads: threads, into: r.shortcut, scratch: resample)
        try skip.trainingForward(r.shortcut, side: o, lrelu: false, into: y, threads: threads, scratch: scratch)
        let count = conv2.outChannels * o * o, main = r.conv2
        parallelBlocks(count, costPerItem: 1) { range in for i in range { y[i] += main[i] } }
    }

    /// Reverse mode: `dy` `[O, out, out]` (read only); `gradInput` `[C, side, side]`
    /// OVERWRITTEN if given; `gradients` ADDED.
    func backward(input x: UnsafePointer<Float>, side: Int, record r: ResidualBlockRecord, gradOutput dy: UnsafePointer<Float>,
                  gradInput: UnsafeMutablePointer<Float>?, gradients g: ResidualBlockGradients, threads: Int, scratch: Workspace) throws {
        let o = outSide(side), c = conv1.inChannels, outCount = conv2.outChannels * o * o
        let dMain = try scratch.slot(2, count: outCount), dSkip = try scratch.slot(3, count: outCount)
        let dResized = try scratch.slot(4, count: c * o * o), dConv1 = try scratch.slot(5, count: c * side * side)
        let dShortcut = try scratch.slot(6, count: c * o * o), fromSkip = try scratch.slot(7, count: c * side * side)
        let resample = try scratch.slot(1, count: threads * max(side, o))
        dMain.update(from: dy, count: outCount)
        dSkip.update(from: dy, count: outCount)
        try skip.backward(input: r.shortcut, side: o, output: r.shortcut, lrelu: false, gradOutput: dSkip,
                          gradInput: gradInput == nil ? nil : dShortcut, gradients: g.skip, threads: threads, scratch: scratch)
        try conv2.backward(input: r.resized, side: o, output: r.conv2, lrelu: true, gradOutput: dMain, gradInput: dResized,
                           gradients: g.conv2, threads: threads, scratch: scratch)
        Bilinear.backward(dResized, channels: c, height: side, width: side, up: up, threads: threads, into: dConv1, scratch: resample)
        try conv1.backward(input: x, side: side, output: r.conv1, lrelu: true, gradOutput: dConv1, gradInput: gradInput,
                           gradients: g.conv1, threads: threads, scratch: scratch)
        if let gradInput {
            Bilinear.backward(dShortcut, channels: c, height: side, width: side, up: up, threads: threads, into: fromSkip, scratch: resample)
            let count = c * side * side
            parallelBlocks(count, costPerItem: 1) { range in for i in range { gradInput[i] += fromSkip[i] } }
        }
    }
}
