/// basicsr's `L1Loss` (reduction "mean"), GFPGAN's pixel loss (eq. 7's L1 term, λ 0.1 in the
/// paper): `weight · mean |prediction − target|`, and its gradient with respect to the
/// prediction, `weight · sign(prediction − target) / count` (0 where they are equal, as torch's
/// sign). Sums in Double.
enum PixelL1Loss {
    /// The loss over `count` values; `gradient` (OVERWRITTEN, `count` floats) if given.
    static func evaluate(_ prediction: UnsafePointer<Float>, _ target: UnsafePointer<Float>, count: Int, weight: Float = 1,
                         gradient: UnsafeMutablePointer<Float>? = nil) -> Float {
        precondition(count > 0)
        var sum = 0.0
        for i in 0..<count { sum += Double(abs(prediction[i] - target[i])) }
        if let gradient {
            let step = weight / Float(count)
            parallelBlocks(count, costPerItem: 2) { range in
                for i in range {
                    let d = prediction[i] - target[i]
                    gradient[i] = d > 0 ? step : (d < 0 ? -step : 0)
                }
            }
        }
        return weight * Float(sum / Double(count))
    }
}
