#if canImport(Glibc)
import Glibc
#endif

/// basicsr's `GANLoss` with `gan_type="wgan_softplus"` (GFPGAN's and the paper's adversarial
/// loss: StyleGAN2's non-saturating logistic loss). For a batch's scores s[N]: against the
/// "real" label `mean softplus(−s)`, against "fake" `mean softplus(s)`, times `weight` (the
/// generator's, 0.1 in the paper; upstream gives discriminators weight 1). Gradient with
/// respect to the scores: real `−weight · sigmoid(−s) / N`, fake `weight · sigmoid(s) / N`.
/// softplus is computed stably, `max(x, 0) + log1p(exp(−|x|))` (torch returns x itself above
/// 20, a difference under 3e-9).
enum SoftplusAdversarialLoss {
    /// The loss and its gradient `[N]`.
    static func evaluate(scores: [Float], real: Bool, weight: Float = 1) -> (loss: Float, gradient: [Float]) {
        precondition(!scores.isEmpty)
        let n = Double(scores.count)
        var sum = 0.0, gradient = [Float](repeating: 0, count: scores.count)
        for (i, s) in scores.enumerated() {
            let x = real ? -Double(s) : Double(s)
            sum += max(x, 0) + log1p(exp(-abs(x)))
            let sigmoid = 1 / (1 + exp(-x))
            gradient[i] = Float((real ? -sigmoid : sigmoid) * Double(weight) / n)
        }
        return (Float(sum / n) * weight, gradient)
    }
}
