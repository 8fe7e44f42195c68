/// Reverse mode of a bias followed by LeakyReLU, `y = gain · LeakyReLU_slope(v + b[o])`: the
/// enhancer's StyleConvs and U-Net layers (gain 1, slope 0.2) and StyleGAN2's FusedLeakyReLU
/// (gain sqrt 2, slope 0.2) alike. `y > 0` exactly where `v + b > 0` (gain > 0, slope > 0),
/// so the output alone decides the slope.
enum LeakyReLUBackward {
    /// `grad[i] *= gain · (y[i] > 0 ? 1 : slope)`, in place, `count` floats.
    static func apply(output y: UnsafePointer<Float>, grad: UnsafeMutablePointer<Float>, count n: Int, slope: Float, gain: Float) {
        precondition(slope > 0 && gain > 0)
        let negative = slope * gain
        parallelBlocks(n, costPerItem: 2) { range in
            for i in range { grad[i] *= y[i] > 0 ? gain : negative }
        }
    }

    /// Adds each channel's sum of `grad[channels, plane]` to `into[c]` (the bias gradient) and,
    /// with `weightedBy`, returns `Σ_c Σ_p grad[c, p] noise[p]` (the gradient of a noise
    /// injection's weight, one noise plane shared by the channels); else 0. Sums in Double.
    static func channelSums(_ grad: UnsafePointer<Float>, channels: Int, plane: Int, into: UnsafeMutablePointer<Float>,
                            weightedBy noise: UnsafePointer<Float>? = nil) -> Float {
        var weighted: Double = 0
        for c in 0..<channels {
            let row = grad + c * plane
            into[c] += Float(doubleSum(row, count: plane))
            if let noise { weighted += doubleDot(row, noise, count: plane) }
        }
        return Float(weighted)
    }
}
