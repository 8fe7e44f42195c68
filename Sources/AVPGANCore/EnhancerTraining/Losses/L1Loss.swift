/// The L1 reconstruction loss, `weight · mean |output - target|` (torch's `L1Loss`, mean
/// reduction, times basicsr's `loss_weight`), with its gradient with respect to `output`.
enum L1Loss {
    /// Values per block of the reduction: blocks depend on `count` only, so the sum (each
    /// block's partial in Double, then the partials in order) is the same at any thread count.
    static let block = 1 << 14

    /// Returns `weight · mean |output - target|` over `count` values.
    /// `gradOutput` (if non-nil) is OVERWRITTEN with `weight / count · sign(output - target)`,
    /// with sign(0) = 0 as in torch; it may alias neither input.
    static func evaluate(
        output x: UnsafePointer<Float>, target y: UnsafePointer<Float>, count: Int, weight: Float,
        gradOutput: UnsafeMutablePointer<Float>?
    ) -> Float {
        precondition(count > 0)
        let blocks = (count + block - 1) / block
        var partials = [Double](repeating: 0, count: blocks)
        // torch's chain: the mean's backward is weight / n in Float, then abs's sign times it.
        let scale = weight / Float(count)
        partials.withUnsafeMutableBufferPointer { sums in
            parallelFor(blocks, costPerItem: block) { b in
                let lo = b * block, hi = min(count, lo + block)
                var acc = SIMD4<Double>()
                var i = lo
                while i + 4 <= hi {
                    acc += SIMD4<Double>(Double(abs(x[i] - y[i])), Double(abs(x[i + 1] - y[i + 1])),
                                         Double(abs(x[i + 2] - y[i + 2])), Double(abs(x[i + 3] - y[i + 3])))
                    i += 4
                }
                var s = (acc[0] + acc[1]) + (acc[2] + acc[3])
                while i < hi { s += Double(abs(x[i] - y[i])); i += 1 }
                sums[b] = s
                if let g = gradOutput {
                    for j in lo..<hi {
                        let d = x[j] - y[j]
                        g[j] = d > 0 ? scale : (d < 0 ? -scale : 0)
                    }
                }
            }
        }
        return Float(Double(weight) * (partials.reduce(0, +) / Double(count)))
    }
}
