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
    /// Scratch for W permuted to `[rows, cols]` (dim 1 only: for dim 0 `weight_orig` is W).
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
        matrix = [Float](repeating: 0, count: dim == 0 ? 0 : count)
        wv = [Float](repeating: 0, count: rows)
    }

    /// For `dim` 1 (`weight_orig` `[shape0, rows, inner]`): `inner` = product of the dimensions
    /// after `dim`, so matrix element `(r, a * inner + t)` is `weight_orig[(a * rows + r) * inner + t]`.
    private var inner: Int { dim == 0 ? cols : cols / shape[0] }

    private static func normalize(_ x: inout [Float], eps: Float) {
        var s: Float = 0
        for e in x { s += e * e }
        let n = max(s.squareRoot(), eps)
        for i in x.indices { x[i] /= n }
    }

    /// One power iteration and `weight = weightOrig / σ` (OVERWRITTEN; both `shape`, row-major).
    func forward(weightOrig: UnsafePointer<Float>, into weight: UnsafeMutablePointer<Float>) {
        matrix.withUnsafeMutableBufferPointer { m in
            // W as [rows, cols]: weight_orig itself for dim 0, else permuted (whole inner runs).
            let w: UnsafePointer<Float>
            if dim == 0 {
                w = weightOrig
            } else {
                let inner = self.inner, rows = self.rows, cols = self.cols
                for a in 0..<shape[0] {
                    for r in 0..<rows {
                        (m.baseAddress! + r * cols + a * inner).update(from: weightOrig + (a * rows + r) * inner, count: inner)
                    }
                }
                w = UnsafePointer(m.baseAddress!)
            }
            // v = normalize(Wᵀ u)
            u.withUnsafeBufferPointer { u in
                v.withUnsafeMutableBufferPointer { v in
                    BLAS.gemv(trans: true, rows: rows, cols: cols, a: w, lda: cols, x: u.baseAddress!, y: v.baseAddress!)
                }
            }
            SpectralNormTraining.normalize(&v, eps: eps)
            // u = normalize(W v)
            v.withUnsafeBufferPointer { v in
                u.withUnsafeMutableBufferPointer { u in
                    BLAS.gemv(rows: rows, cols: cols, a: w, lda: cols, x: v.baseAddress!, y: u.baseAddress!)
                }
            }
            SpectralNormTraining.normalize(&u, eps: eps)
            // σ = u · (W v)
            v.withUnsafeBufferPointer { v in
                wv.withUnsafeMutableBufferPointer { y in
                    BLAS.gemv(rows: rows, cols: cols, a: w, lda: cols, x: v.baseAddress!, y: y.baseAddress!)
                }
            }
        }
        var s: Float = 0
        for r in 0..<rows { s += u[r] * wv[r] }
        sigma = s
        let count = rows * cols
        parallelBlocks(count, costPerItem: 4) { range in
            for i in range { weight[i] = weightOrig[i] / s }
        }
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
        // Σ dW·W_orig in Double, four interleaved partial sums.
        var d0: Double = 0, d1: Double = 0, d2: Double = 0, d3: Double = 0
        var i = 0
        while i + 4 <= count {
            d0 += Double(gradWeight[i]) * Double(weightOrig[i])
            d1 += Double(gradWeight[i + 1]) * Double(weightOrig[i + 1])
            d2 += Double(gradWeight[i + 2]) * Double(weightOrig[i + 2])
            d3 += Double(gradWeight[i + 3]) * Double(weightOrig[i + 3])
            i += 4
        }
        while i < count { d0 += Double(gradWeight[i]) * Double(weightOrig[i]); i += 1 }
        let dot = (d0 + d1) + (d2 + d3)
        let k = Float(dot / Double(state.sigma) / Double(state.sigma))
        let sigma = state.sigma
        // dW_orig += dW/σ, then -= k u vᵀ (in weight_orig's layout), one pass per run of `inner`.
        let inner = self.inner, rows = self.rows, outer = count / (rows * inner)
        state.u.withUnsafeBufferPointer { u in
            state.v.withUnsafeBufferPointer { v in
                let u = u.baseAddress!, v = v.baseAddress!
                parallelFor(outer * rows, costPerItem: 4 * inner) { j in
                    let a = j / rows, r = j % rows
                    let ku = k * u[r]
                    let base = j * inner, vs = v + (dim == 0 ? 0 : a * inner)
                    for t in 0..<inner {
                        gradWeightOrig[base + t] = (gradWeightOrig[base + t] + gradWeight[base + t] / sigma) - ku * vs[t]
                    }
                }
            }
        }
    }

    /// Reverse mode of `forward` with u, v constant: given dL/dweight (`shape`), ADDS
    /// `dW/σ - (Σ dW·W_orig)/σ² · (u vᵀ in weight_orig's layout)` to `gradWeightOrig`.
    func backward(weightOrig: UnsafePointer<Float>, gradWeight: UnsafePointer<Float>,
                  gradWeightOrig: UnsafeMutablePointer<Float>) {
        backward(weightOrig: weightOrig, gradWeight: gradWeight, gradWeightOrig: gradWeightOrig, from: snapshot)
    }
}
