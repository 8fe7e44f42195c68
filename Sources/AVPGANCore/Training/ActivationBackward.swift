#if canImport(Glibc)
import Glibc
#endif

extension Activation {
    /// Reverse mode of the pointwise activation, from its OUTPUT `y` (so it works after the
    /// in-place forwards torch uses): `grad[i] *= f'(x[i])`, in place, `count` floats.
    /// ReLU: `y > 0`; LeakyReLU(slope > 0): `y > 0 ? 1 : slope` (torch's `x > 0` test, same sign);
    /// ReLU6: `0 < y < 6`; sigmoid: `y (1 - y)`.
    /// Split over the library's threads in contiguous blocks; branch-free selects, so the loops vectorise.
    func backward(output y: UnsafePointer<Float>, grad: UnsafeMutablePointer<Float>, count n: Int) {
        if self == .identity { return }
        parallelBlocks(n, costPerItem: 2) { range in
            switch self {
            case .identity: return
            case .relu: for i in range { grad[i] = y[i] > 0 ? grad[i] : 0 }
            case .relu6: for i in range { grad[i] = y[i] > 0 && y[i] < 6 ? grad[i] : 0 }
            case let .leakyReLU(slope):
                precondition(slope > 0)
                for i in range { grad[i] = y[i] > 0 ? grad[i] : grad[i] * slope }
            case .sigmoid: for i in range { grad[i] = grad[i] * ((1 - y[i]) * y[i]) }
            }
        }
    }
}

extension Reductions {
    /// Reverse mode of a mean over the last axis: `x` is `rows x length`, `y[r]` its row mean;
    /// `dx[r, t] = dy[r] / length` (OVERWRITTEN).
    static func timeMeanBackward(_ dy: UnsafePointer<Float>, rows: Int, length: Int, into dx: UnsafeMutablePointer<Float>) {
        let inv = 1 / Float(length)
        for r in 0..<rows { (dx + r * length).update(repeating: dy[r] * inv, count: length) }
    }

    /// Reverse mode of `y = x / max(‖x‖₂, eps)` (torch's F.normalize) for one vector of `count`
    /// elements `stride` floats apart (stride lets a CNHW `[E, N]` map be used per column).
    /// With `r = ‖x‖`: if `r > eps`, `dx = (dy - y (y·dy)) / r`; else the clamp has zero
    /// gradient and `dx = dy / eps`. `dx` is OVERWRITTEN and may alias `dy`. Sums in Double.
    static func l2NormalizeBackward(
        input x: UnsafePointer<Float>, gradOutput dy: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>,
        count: Int, stride: Int = 1, eps: Float = 1e-12
    ) {
        var squares: Double = 0
        for i in 0..<count { let v = Double(x[i * stride]); squares += v * v }
        let r = squares.squareRoot()
        if r <= Double(eps) {
            for i in 0..<count { dx[i * stride] = dy[i * stride] / eps }
            return
        }
        var dot: Double = 0
        for i in 0..<count { dot += Double(x[i * stride]) * Double(dy[i * stride]) }
        let proj = dot / (r * r)
        for i in 0..<count {
            dx[i * stride] = Float((Double(dy[i * stride]) - Double(x[i * stride]) * proj) / r)
        }
    }
}
