#if canImport(Glibc)
import Glibc
#endif

/// basicsr's GANLoss on discriminator logits, the two kinds GFPGAN trains with, with the
/// gradient with respect to the logits:
/// - `softplus` (`gan_type: wgan_softplus`, the whole-face discriminator): `mean softplus(-x)`
///   for a real target, `mean softplus(x)` for a fake one (torch's softplus: `x` above 20 is
///   taken as is);
/// - `vanilla` (the facial-component discriminators): `BCEWithLogitsLoss` against 1 (real) or
///   0 (fake), mean.
/// The result is times `weight` (basicsr's `loss_weight` for the generator; pass 1 for a
/// discriminator's loss, as basicsr's `is_disc`).
enum AdversarialLoss {
    enum Kind: Sendable {
        case softplus, vanilla
    }

    /// torch's `F.softplus(x)` (beta 1, threshold 20).
    @inline(__always)
    static func softplus(_ x: Float) -> Float { x > 20 ? x : log1pf(expf(x)) }

    /// Returns the loss of `count` logits; `gradLogits` (if non-nil) is OVERWRITTEN with its
    /// gradient: softplus `±weight / count · e^z / (e^z + 1)` with `z = ∓x` (1 above the
    /// threshold), vanilla `weight / count · (sigmoid(x) - target)`. Sums in Double.
    static func evaluate(logits x: UnsafePointer<Float>, count: Int, kind: Kind, targetIsReal: Bool, weight: Float,
                         gradLogits: UnsafeMutablePointer<Float>?) -> Float {
        precondition(count > 0)
        var sum: Double = 0
        let scale = weight / Float(count)
        switch kind {
        case .softplus:
            let sign: Float = targetIsReal ? -1 : 1
            for i in 0..<count {
                let z = sign * x[i]
                sum += Double(softplus(z))
                if let g = gradLogits {
                    let e = expf(z)
                    g[i] = sign * (z > 20 ? scale : scale * e / (e + 1))
                }
            }
        case .vanilla:
            let t: Float = targetIsReal ? 1 : 0
            for i in 0..<count {
                // torch: (1 - t) x + max(-x, 0) + log(exp(-max) + exp(-x - max)).
                let m = max(-x[i], 0)
                sum += Double((1 - t) * x[i] + m + logf(expf(-m) + expf(-x[i] - m)))
                if let g = gradLogits { g[i] = scale * (sigmoid(x[i]) - t) }
            }
        }
        return Float(Double(weight) * sum / Double(count))
    }
}
