/// Where the gradients of one `ToRGB`'s parameters are ADDED.
struct ToRGBGradients {
    let conv: ModulatedConvGradients
    /// `[3]`.
    let bias: UnsafeMutablePointer<Float>
}

/// A ToRGB for training, one image: `y = modconv_1x1(x) + bias + up2(skip)` (upstream's
/// ToRGB: no demodulation, gain 1; the previous level's RGB `skip[3, side / 2, side / 2]`
/// upsampled bilinearly, or no skip at 4 px), and its reverse mode.
extension ToRGB {
    /// Floats of scratch `forward` and `backward` take for a side `side` on `threads` threads.
    func trainingScratchCount(side: Int, threads: Int) -> Int {
        max(conv.inChannels + 3 * conv.depth + 2 * threads * side, conv.backwardScratchCount(side: side, threads: threads))
    }

    /// `y[3, side, side]` from `x[C, side, side]`, `style[styleDim]` and, if given, `skip`.
    func forward(input x: UnsafePointer<Float>, side: Int, style: UnsafePointer<Float>, skip: UnsafePointer<Float>?,
                 into y: UnsafeMutablePointer<Float>, threads: Int, scratch: UnsafeMutablePointer<Float>) {
        let m = conv, modulated = scratch + m.inChannels
        if let skip {
            Bilinear.resize(skip, channels: 3, height: side / 2, width: side / 2, up: true, threads: threads, into: y,
                            scratch: modulated + 3 * m.depth)
        }
        m.modulate(style: style, gain: 1, styleScratch: scratch, into: modulated)
        let bias = self.bias.pointer
        SameConv.forward(weights: modulated, outChannels: 3, kernel: m.kernel, input: x, channels: m.inChannels, height: side,
                         width: side, into: y, accumulate: skip != nil, threads: threads, scratch: modulated + 3 * m.depth) { o, plane, pixels in
            let b = bias[o]
            for p in pixels { plane[p] += b }
        }
    }

    /// Reverse mode of `forward` from `dY[3, side, side]`: `gradInput` (`dX[C, side, side]`)
    /// and `gradSkip` (`[3, side / 2, side / 2]`) OVERWRITTEN if non-nil; the parameters'
    /// gradients and `gradStyle` ADDED.
    func backward(input x: UnsafePointer<Float>, side: Int, style: UnsafePointer<Float>, gradOutput dy: UnsafePointer<Float>,
                  gradInput: UnsafeMutablePointer<Float>?, gradSkip: UnsafeMutablePointer<Float>?, gradients: ToRGBGradients,
                  gradStyle: UnsafeMutablePointer<Float>?, threads: Int, scratch: UnsafeMutablePointer<Float>) {
        _ = LeakyReLUBackward.channelSums(dy, channels: 3, plane: side * side, into: gradients.bias)
        if let gradSkip {
            Bilinear.backward(dy, channels: 3, height: side / 2, width: side / 2, up: true, threads: threads, into: gradSkip,
                              scratch: scratch)
        }
        conv.backward(input: x, side: side, style: style, gain: 1, gradOutput: dy, gradInput: gradInput,
                      gradients: gradients.conv, gradStyle: gradStyle, threads: threads, scratch: scratch)
    }
}
