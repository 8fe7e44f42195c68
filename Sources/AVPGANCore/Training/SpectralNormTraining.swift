#if canImport(Glibc)
import Glibc
#endif

/// torch.nn.utils.spectral_norm in training mode for one weight. `W` is `weight_orig` with
/// dimension `dim` moved first and flattened to `[rows = shape[dim], cols = count / rows]`
/// (`dim` 0 for Conv2d/Linear, 1 for ConvTranspose2d). Each `forward` does ONE power iteration
/// under no_grad exactly as torch: `v = normalize(Wᵀ u)`, `u = normalize(W v)` (eps 1e-12),
/// then `σ = u · (W v)` with the new u, v, and writes `weight = weight_orig / σ`.
/// `backward` treats u and v as constants (torch clones them): `dW_orig += dW/σ - (dW·W_orig)/σ² · u vᵀ`.
final class SpectralNormTraining {
    let shape: [Int]
    let dim: Int
    let rows: Int
    let cols: Int
    let eps: Float = 1e-12
    /// `weight_u` (`rows`) and `weight_v` (`cols`), updated by every `forward`.
    var u: [Float]
    var v: [Float]
    /// σ of the last `forward`.
    private(set) var sigma: Float = 1
    /// W (permuted to `[rows, cols]`) of the last forward, reused by `backward`.
    private var matrix: [Float]
    private var wv: [Float]

    init(shape: [Int], dim: Int, u: [Float], v: [Float]) {
        precondition(dim == 0 || dim == 1)
        self.shape = shape
        self.dim = dim
        let count = shape.reduce(1, *)
        rows = shape[dim]
        cols = count / rows
        precondition(u.count == rows && v.count == cols)
        self.u = u
        self.v = v
        matrix = [Float](repeating: 0, count: count)
        wv = [Float](repeating: 0, count: rows)
    }

    /// Index in `weight_orig` of matrix element `(r, c)`.
    @inline(__always)
    private func originalIndex(_ r: Int, _ c: Int) -> Int {
        if dim == 0 { return r * cols + c }
        let inner = cols / shape[0]
        let a = c / inner, t = c % inner
        return (a * rows + r) * inner + t
    }

    private static func normalize(_ x: inout [Float], eps: Float) {
        var s: Float = 0
        for e in x { s += e * e }
        let n = max(s.squareRoot(), eps)
        for i in x.indices { x[i] /= n }
    }

    /// One power iteration and `weight = weightOrig / σ` (OVERWRITTEN; both `shape`, row-major).
    func forward(weightOrig: UnsafePointer<Float>, into weight: UnsafeMutablePointer<Float>) {
        for r in 0..<rows { for c in 0..<cols { matrix[r * cols + c] = weightOrig[originalIndex(r, c)] } }
        matrix.withUnsafeBufferPointer { m in
            // v = normalize(Wᵀ u)
            u.withUnsafeBufferPointer { u in
                v.withUnsafeMutableBufferPointer { v in
                    BLAS.gemv(trans: true, rows: rows, cols: cols, a: m.baseAddress!, lda: cols, x: u.baseAddress!, y: v.baseAddress!)
                }
            }
            SpectralNormTraining.normalize(&v, eps: eps)
            // u = normalize(W v)
            v.withUnsafeBufferPointer { v in
                u.withUnsafeMutableBufferPointer { u in
                    BLAS.gemv(rows: rows, cols: cols, a: m.baseAddress!, lda: cols, x: v.baseAddress!, y: u.baseAddress!)
                }
            }
            SpectralNormTraining.normalize(&u, eps: eps)
            // σ = u · (W v)
            v.withUnsafeBufferPointer { v in
                wv.withUnsafeMutableBufferPointer { y in
                    BLAS.gemv(rows: rows, cols: cols, a: m.baseAddress!, lda: cols, x: v.baseAddress!, y: y.baseAddress!)
                }
            }
        }
        var s: Float = 0
        for r in 0..<rows { s += u[r] * wv[r] }
        sigma = s
        let count = rows * cols
        for i in 0..<count { weight[i] = weightOrig[i] / s }
    }

    /// The vectors and σ of the last forward, for a backward that runs after later forwards.
    struct Snapshot {
        var u: [Float]
        var v: [Float]
        var sigma: Float
    }

    var snapshot: Snapshot { Snapshot(u: u, v: v, sigma: sigma) }

    /// `backward` with the state of an earlier forward.
    func backward(weightOrig: UnsafePointer<Float>, gradWeight: UnsafePointer<Float>,
                  gradWeightOrig: UnsafeMutablePointer<Float>, from state: Snapshot) {
        let count = rows * cols
        var dot: Double = 0
        for i in 0..<count { dot += Double(gradWeight[i]) * Double(weightOrig[i]) }
        let k = Float(dot / Double(state.sigma) / Double(state.sigma))
        for i in 0..<count { gradWeightOrig[i] += gradWeight[i] / state.sigma }
        for r in 0..<rows {
            let ku = k * state.u[r]
            for c in 0..<cols { gradWeightOrig[originalIndex(r, c)] -= ku * state.v[c] }
        }
    }

    /// Reverse mode of `forward` with u, v constant: given dL/dweight (`shape`), ADDS
    /// `dW/σ - (Σ dW·W_orig)/σ² · (u vᵀ in weight_orig's layout)` to `gradWeightOrig`.
    func backward(weightOrig: UnsafePointer<Float>, gradWeight: UnsafePointer<Float>,
                  gradWeightOrig: UnsafeMutablePointer<Float>) {
        backward(weightOrig: weightOrig, gradWeight: gradWeight, gradWeightOrig: gradWeightOrig, from: snapshot)
    }
}
