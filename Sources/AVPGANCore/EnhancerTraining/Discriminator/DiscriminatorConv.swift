/// One of StyleGAN2's discriminator convolutions (basicsr's `ConvLayer`): an optional FIR blur
/// (when downsampling: then a stride-2, unpadded convolution; else stride 1, padding k / 2),
/// the equalised-learning-rate convolution `W · 1/sqrt(C k k)`, and when activated the fused
/// bias + LeakyReLU 0.2 times sqrt 2 (`FusedLeakyReLU`), else a plain bias if it has one (the
/// component discriminator's last layer). Maps are CNHW over the whole batch.
final class DiscriminatorConv {
    let weightName: String
    /// The bias, or nil for a convolution without one (the residual skips).
    let biasName: String?
    /// Whether the bias is the fused LeakyReLU's (else it is added alone).
    let activate: Bool
    let inChannels, outChannels, kernel: Int
    let downsample: Bool
    /// The stored weight `[O, C, k, k]` times the equalisation scale, refreshed by `prepare`.
    private let scaled: FloatStorage
    let conv: Conv2d

    var scale: Float { 1 / Float(inChannels * kernel * kernel).squareRoot() }
    /// The blur's zero padding before and after: `(4 − 2) + (k − 1)` split as upstream does.
    var blurPad: (before: Int, after: Int) { let p = 2 + kernel - 1; return ((p + 1) / 2, p / 2) }

    init(weight: String, bias: String?, activate: Bool = true, inChannels: Int, outChannels: Int, kernel: Int, downsample: Bool) throws {
        weightName = weight
        biasName = bias
        self.activate = activate
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.downsample = downsample
        scaled = try FloatStorage(count: outChannels * inChannels * kernel * kernel)
        conv = Conv2d(weight: scaled, inChannels: inChannels, outChannels: outChannels,
                      geometry: downsample ? .square(kernel, stride: 2) : .square(kernel, padding: kernel / 2))
    }

    /// Side of the output for an input side `side`.
    func outputSide(_ side: Int) -> Int { downsample ? side / 2 : side }

    /// Side of the convolution's own input (after the blur).
    func convSide(_ side: Int) -> Int { downsample ? FIRBlur.outputSide(side, pad: blurPad) : side }

    /// Refreshes the scaled weights from the parameters (call after each update).
    func prepare(_ parameters: [String: FloatStorage]) {
        let w = parameters[weightName]!.pointer, s = scale
        for i in 0..<scaled.count { scaled.pointer[i] = w[i] * s }
    }

    /// `y` from `x` (`blurred`: the blur's output, `inChannels x batch x convSide²`, when
    /// downsampling); `cols`: `conv.scratchCount` for the convolution's input. With
    /// `slopesFrom` (the same layer's output in another pass), the LeakyReLU takes its slope
    /// where that output is positive or not, not where this one is: the activation pattern
    /// frozen, as the R1 penalty's approximation needs.
    func forward(_ x: FeatureMap, blurred: UnsafeMutablePointer<Float>?, into y: FeatureMap, bias: UnsafePointer<Float>?,
                 cols: UnsafeMutablePointer<Float>, slopesFrom: FeatureMap? = nil) {
        var input = x
        if downsample, let blurred {
            FIRBlur.forward(x.data, planes: x.channels * x.batch, side: x.height, pad: blurPad, into: blurred)
            let side = convSide(x.height)
            input = FeatureMap(data: blurred, channels: inChannels, batch: x.batch, height: side, width: side)
        }
        conv.forward(input, into: y, cols: cols)
        if let bias, !activate {
            parallelFor(outChannels, costPerItem: y.row) { c in
                let row = y.channel(c), b = bias[c]
                for i in 0..<y.row { row[i] += b }
            }
        } else if let bias {
            let gain = Float(2).squareRoot()
            parallelFor(outChannels, costPerItem: y.row) { c in
                let row = y.channel(c), b = bias[c]
                if let pattern = slopesFrom?.channel(c) {
                    for i in 0..<y.row { let v = row[i] + b; row[i] = (pattern[i] > 0 ? v : 0.2 * v) * gain }
                } else {
                    for i in 0..<y.row { let v = row[i] + b; row[i] = (v > 0 ? v : 0.2 * v) * gain }
                }
            }
        }
    }

    /// Reverse mode. `dy` (the gradient of `y`) is used as scratch; `dx` OVERWRITTEN;
    /// `gradients[weightName]` and `gradients[biasName]` ADDED. `blurredGrad` holds the blur's
    /// output size when downsampling; `weightGrad` the weight's size. `slopesFrom`: as the
    /// forward's.
    func backward(input x: FeatureMap, blurred: UnsafeMutablePointer<Float>?, output y: FeatureMap, gradOutput dy: FeatureMap,
                  gradInput dx: FeatureMap?, gradients: [String: FloatStorage], blurredGrad: UnsafeMutablePointer<Float>?,
                  weightGrad: UnsafeMutablePointer<Float>, cols: UnsafeMutablePointer<Float>, slopesFrom: FeatureMap? = nil) {
        if let biasName {
            if activate { LeakyReLUBackward.apply(output: (slopesFrom ?? y).data, grad: dy.data, count: outChannels * dy.row, slope: 0.2, gain: Float(2).squareRoot()) }
            accumulateChannelSums(dy, into: gradients[biasName]!.pointer)
        }
        var input = x, gradInput = dx
        if downsample, let blurred, let blurredGrad {
            let side = convSide(x.height)
            input = FeatureMap(data: blurred, channels: inChannels, batch: x.batch, height: side, width: side)
            gradInput = dx == nil ? nil : FeatureMap(data: blurredGrad, channels: inChannels, batch: x.batch, height: side, width: side)
        }
        let count = scaled.count
        weightGrad.update(repeating: 0, count: count)
        conv.backward(input: input, gradOutput: dy, gradInput: gradInput, gradWeight: weightGrad, gradBias: nil, cols: cols)
        let target = gradients[weightName]!.pointer, s = scale
        for i in 0..<count { target[i] += s * weightGrad[i] }
        if downsample, let dx, let blurredGrad {
            FIRBlur.backward(blurredGrad, planes: inChannels * x.batch, side: x.height, pad: blurPad, into: dx.data)
        }
    }
}
