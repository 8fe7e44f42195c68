#if canImport(Glibc)
import Glibc
#endif

/// torch.optim.Adam (no weight decay, no amsgrad, not maximize), the single-tensor path, for
/// one parameter tensor: its state (`exp_avg`, `exp_avg_sq`, `step`) lives here.
/// Defaults are the training recipe's: lr 2e-4, betas (0.5, 0.999), eps 1e-8.
/// Per step t (from 1), in Float like torch, the scalars in Double like Python:
///   exp_avg = lerp(exp_avg, g, 1 - b1)        (torch's `exp_avg.lerp_(grad, 1 - beta1)`;
///                                               = b1 m + (1 - b1) g up to rounding)
///   exp_avg_sq = exp_avg_sq * b2 + (1 - b2) g g
///   step_size = lr / (1 - b1^t);  denom = sqrt(exp_avg_sq) / sqrt(1 - b2^t) + eps
///   p = p + (-step_size) * exp_avg / denom
final class AdamState {
    let count: Int
    var lr: Double = 2e-4
    var beta1: Double = 0.5
    var beta2: Double = 0.999
    var eps: Double = 1e-8
    /// Steps taken (settable to resume from a checkpoint).
    var step = 0
    let expAvg: FloatStorage
    let expAvgSq: FloatStorage

    init(count: Int, lr: Double = 2e-4, beta1: Double = 0.5, beta2: Double = 0.999, eps: Double = 1e-8) throws {
        self.count = count
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        expAvg = try FloatStorage(count: count)
        expAvgSq = try FloatStorage(count: count)
    }

    /// One step: updates `param` (`count` floats) in place from `grad`; the gradient is only read.
    func update(param: UnsafeMutablePointer<Float>, grad: UnsafePointer<Float>) {
        step += 1
        let t = Double(step)
        let w = Float(1 - beta1)
        let b2 = Float(beta2), oneMinusB2 = Float(1 - beta2)
        let bc1 = 1 - pow(beta1, t)
        let bc2 = 1 - pow(beta2, t)
        let stepSize = Float(lr / bc1)
        let bc2Sqrt = Float(bc2.squareRoot())
        let epsF = Float(eps)
        let m = expAvg.pointer, v = expAvgSq.pointer
        // Contiguous blocks per thread, each a plain loop the compiler can vectorise.
        parallelBlocks(count, costPerItem: 16) { range in
            if w < 0.5 {
                for i in range { update(i, m[i] + w * (grad[i] - m[i])) }
            } else {
                for i in range { update(i, grad[i] - (grad[i] - m[i]) * (1 - w)) }
            }
        }
        // at::lerp: weight < 0.5 ? self + w (end - self) : end - (end - self) (1 - w), then
        // exp_avg_sq by addcmul_ (self + value * t1 * t2) and the parameter.
        @inline(__always) func update(_ i: Int, _ lerped: Float) {
            let g = grad[i]
            m[i] = lerped
            v[i] = v[i] * b2 + oneMinusB2 * g * g
            let denom = v[i].squareRoot() / bc2Sqrt + epsF
            param[i] = param[i] + (-stepSize) * m[i] / denom
        }
    }
}
