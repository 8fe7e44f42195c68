/// Where a `PlainConv`'s gradients are ADDED: its weight `[O, C k k]` and, if it has one, its bias `[O]`.
struct PlainConvGradients {
    let weight: UnsafeMutablePointer<Float>
    let bias: UnsafeMutablePointer<Float>?
}

/// The U-Net's ordinary convolutions (GFPGANv1Clean's `nn.Conv2d`, stride 1, padding k / 2)
/// for training, one image: `y = conv(x) + bias`, through LeakyReLU 0.2 when `lrelu` (as
/// upstream's `F.leaky_relu_` after it), and the reverse mode. Scratch comes from `scratch`,
/// a workspace these calls use as they like (slot 0).
extension PlainConv {
    func trainingForward(_ x: UnsafePointer<Float>, side: Int, lrelu: Bool, into y: UnsafeMutablePointer<Float>,
                         threads: Int, scratch: Workspace) throws {
        let work = try scratch.slot(0, count: SameConv.scratchCount(channels: inChannels, width: side, height: side, kernel: kernel,
                                                                     threads: threads))
        SameConv.forward(weights: weight.pointer, outChannels: outChannels, kernel: kernel, input: x, channels: inChannels,
                         height: side, width: side, into: y, threads: threads, scratch: work, epilogue: epilogue(lrelu: lrelu))
    }

    /// Reverse mode: `dy` (destroyed: used as scratch), `y` the forward's output (read only
    /// with `lrelu`); `gradInput` OVERWRITTEN if given; `gradients` ADDED.
    func backward(input x: UnsafePointer<Float>, side: Int, output y: UnsafePointer<Float>, lrelu: Bool,
                  gradOutput dy: UnsafeMutablePointer<Float>, gradInput: UnsafeMutablePointer<Float>?, gradients: PlainConvGradients,
                  threads: Int, scratch: Workspace) throws {
        let plane = side * side
        if lrelu { LeakyReLUBackward.apply(output: y, grad: dy, count: outChannels * plane, slope: 0.2, gain: 1) }
        if let bias = gradients.bias { _ = LeakyReLUBackward.channelSums(dy, channels: outChannels, plane: plane, into: bias) }
        let work = try scratch.slot(0, count: SameConv.backwardScratchCount(outChannels: outChannels, channels: inChannels, height: side,
                                                                             width: side, kernel: kernel, threads: threads))
        SameConv.backward(weights: weight.pointer, outChannels: outChannels, kernel: kernel, input: x, channels: inChannels, height: side,
                          width: side, gradOutput: dy, gradInput: gradInput, gradWeight: gradients.weight, threads: threads, scratch: work)
    }
}
