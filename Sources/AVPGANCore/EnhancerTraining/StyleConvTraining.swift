/// Where the gradients of one `StyleConv`'s parameters are ADDED.
struct StyleConvGradients {
    let conv: ModulatedConvGradients
    /// The noise injection's weight (one float).
    let noiseWeight: UnsafeMutablePointer<Float>
    /// `[O]`.
    let bias: UnsafeMutablePointer<Float>
}

/// A StyleConv for training, one image: the same arithmetic as the inference network
/// (`y = LeakyReLU_0.2(sqrt 2 · modconv(up?(x)) + noiseWeight · noise + bias)`, upstream's
/// StyleConv) with the noise plane given per call (training draws it afresh, upstream's
/// `randomize_noise`), and its reverse mode. Sides: `side` is the input's; the output's is
/// `2 side` when the layer upsamples. The convolution is `SameConv`'s im2col GEMMs.
extension StyleConv {
    static let gain = Float(2).squareRoot()

    var outputSide: (Int) -> Int { { side in upsample ? 2 * side : side } }

    /// Floats of scratch `forward` and `backward` take for an input side `side` on `threads` threads.
    func trainingScratchCount(side: Int, threads: Int) -> Int {
        let out = outputSide(side), m = conv
        let forward = m.inChannels + m.outChannels * m.depth
            + SameConv.scratchCount(channels: m.inChannels, width: out, height: out, kernel: m.kernel, threads: threads)
        return resizeScratchCount(side: side, threads: threads) + max(forward, m.backwardScratchCount(side: out, threads: threads))
    }

    /// The upsampling's part of the scratch: the upsampled input, its gradient and the
    /// resampling's own scratch (none without upsampling).
    private func resizeScratchCount(side: Int, threads: Int) -> Int {
        upsample ? 2 * conv.inChannels * 4 * side * side + 4 * threads * side : 0
    }

    /// `y[O, out, out]` for `x[C, side, side]`, `style[styleDim]` and `noise[out, out]`.
    /// `pattern`: if given, another forward's output whose signs choose LeakyReLU's slope
    /// (the pattern frozen, for differencing the backward along a direction, as double
    /// backward treats LeakyReLU); nil uses this forward's own signs.
    func forward(input x: UnsafePointer<Float>, side: Int, style: UnsafePointer<Float>, noise: UnsafePointer<Float>,
                 into y: UnsafeMutablePointer<Float>, threads: Int, scratch: UnsafeMutablePointer<Float>,
                 pattern: UnsafePointer<Float>? = nil) {
        let m = conv, out = outputSide(side)
        var source = x, rest = scratch
        if upsample {
            Bilinear.resize(x, channels: m.inChannels, height: side, width: side, up: true, threads: threads, into: rest,
                            scratch: rest + 2 * m.inChannels * out * out)
            source = UnsafePointer(rest)
            rest += resizeScratchCount(side: side, threads: threads)
        }
        let modulated = rest + m.inChannels
        m.modulate(style: style, gain: Self.gain, styleScratch: rest, into: modulated)
        let noiseWeight = self.noiseWeight, bias = self.bias.pointer
        SameConv.forward(weights: modulated, outChannels: m.outChannels, kernel: m.kernel, input: source, channels: m.inChannels,
                         height: out, width: out, into: y, threads: threads, scratch: modulated + m.outChannels * m.depth) { o, plane, pixels in
            let b = bias[o]
            if let pattern {
                let signs = pattern + o * out * out
                for p in pixels { let v = plane[p] + noiseWeight * noise[p] + b; plane[p] = signs[p] > 0 ? v : v * 0.2 }
            } else {
                for p in pixels { let v = plane[p] + noiseWeight * noise[p] + b; plane[p] = v > 0 ? v : v * 0.2 }
            }
        }
    }

    /// Reverse mode of `forward`.
    /// - Parameters:
    ///   - output: the forward's `y` (before any CS-SFT the network applies after it).
    ///   - gradOutput: `dY[O, out, out]`; used as scratch: its contents are destroyed.
    ///   - gradInput: if non-nil, OVERWRITTEN with `dX[C, side, side]`.
    ///   - gradients: ADDED; `gradStyle`: if non-nil, `dstyle[styleDim]` ADDED.
    func backward(input x: UnsafePointer<Float>, side: Int, style: UnsafePointer<Float>, noise: UnsafePointer<Float>,
                  output y: UnsafePointer<Float>, gradOutput dy: UnsafeMutablePointer<Float>,
                  gradInput: UnsafeMutablePointer<Float>?, gradients: StyleConvGradients,
                  gradStyle: UnsafeMutablePointer<Float>?, threads: Int, scratch: UnsafeMutablePointer<Float>) {
        let m = conv, out = outputSide(side), plane = out * out
        // Through LeakyReLU (y > 0 exactly where its input is), then bias and noise.
        LeakyReLUBackward.apply(output: y, grad: dy, count: m.outChannels * plane, slope: 0.2, gain: 1)
        let noiseGrad = LeakyReLUBackward.channelSums(dy, channels: m.outChannels, plane: plane, into: gradients.bias,
                                                      weightedBy: noise)
        gradients.noiseWeight.pointee += noiseGrad
        var source = x, rest = scratch
        var resizedGrad: UnsafeMutablePointer<Float>? = nil
        if upsample {
            let resized = rest, bilinearScratch = rest + 2 * m.inChannels * out * out
            Bilinear.resize(x, channels: m.inChannels, height: side, width: side, up: true, threads: threads, into: resized,
                            scratch: bilinearScratch)
            source = UnsafePointer(resized)
            resizedGrad = gradInput == nil ? nil : resized + m.inChannels * out * out
            rest += resizeScratchCount(side: side, threads: threads)
        }
        m.backward(input: source, side: out, style: style, gain: Self.gain, gradOutput: dy,
                   gradInput: upsample ? resizedGrad : gradInput, gradients: gradients.conv, gradStyle: gradStyle,
                   threads: threads, scratch: rest)
        if upsample, let gradInput, let resizedGrad {
            Bilinear.backward(resizedGrad, channels: m.inChannels, height: side, width: side, up: true, threads: threads,
                              into: gradInput, scratch: scratch + 2 * m.inChannels * out * out)
        }
    }
}
