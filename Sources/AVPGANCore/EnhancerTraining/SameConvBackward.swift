/// Reverse mode of `SameConv.forward` (stride 1, zero padding k / 2, odd k) for one image,
/// without epilogue: the bias, activation and whatever else followed are the caller's.
///
/// - dX: a stride-1 convolution with padding k / 2 is its own adjoint up to flipping the taps
///   and swapping the channel axes, so dX is `SameConv.forward` of dY with the weights
///   `Wᵀ[C, O, k, k]` (taps reversed): the same tiled GEMMs, bit-identical at any thread count.
/// - dW: `dW[O, C k k] += dY[O, H W] · im2col(x)ᵀ`, one GEMM per tile of output rows (the
///   forward's tiles), the tiles summed in order; each GEMM split over the columns of dW by work
///   size only. A tile of at least `transposedGradientColumns` pixels computes the transpose
///   `dWᵀ[C k k, O] = im2col(x) · dYᵀ` instead and adds it to dW: OpenBLAS then packs the large
///   im2col block without transposing it, which on its SkylakeX kernels made these GEMMs
///   1.1–1.5x faster for 16–64 output channels at 64–128 px (and slower on small maps).
///   Each element is the same dot product over the tile's pixels either way, added to dW once.
extension SameConv {
    /// Pixels per tile from which `backward` computes dWᵀ (see above).
    static let transposedGradientColumns = 4096

    /// Floats of scratch `backward` takes for these shapes on up to `threads` threads.
    static func backwardScratchCount(outChannels: Int, channels: Int, height: Int, width: Int, kernel k: Int,
                                     threads: Int) -> Int {
        let flipped = channels * outChannels * k * k
        let forDX = scratchCount(channels: outChannels, width: width, height: height, kernel: k, threads: threads)
        let forDW = (k == 1 ? 0 : channels * k * k * width * tileRows(channels: channels, width: width, height: height, kernel: k))
            + channels * k * k * outChannels
        return flipped + max(forDX, forDW)
    }

    /// - Parameters:
    ///   - weights: the forward's `[O, C k k]`; `input`: its `x[C, H, W]`; `gradOutput`: `dY[O, H, W]`.
    ///   - gradInput: if non-nil, OVERWRITTEN with `dX[C, H, W]`; must not alias the others.
    ///   - gradWeight: if non-nil, `dW[O, C k k]` is ADDED to it.
    ///   - scratch: `backwardScratchCount` floats for the same `threads`.
    static func backward(weights: UnsafePointer<Float>, outChannels: Int, kernel k: Int,
                         input: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
                         gradOutput dy: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>?,
                         gradWeight: UnsafeMutablePointer<Float>?, threads: Int, scratch: UnsafeMutablePointer<Float>) {
        precondition(k % 2 == 1, "SameConv.backward needs an odd kernel")
        let taps = k * k, depth = channels * taps, plane = height * width
        let flipped = scratch, work = scratch + channels * outChannels * taps
        if let gradInput {
            // Wᵀ[c, o, i, j] = W[o, c, k-1-i, k-1-j].
            for o in 0..<outChannels {
                for c in 0..<channels {
                    let from = weights + o * depth + c * taps, to = flipped + (c * outChannels + o) * taps
                    for t in 0..<taps { to[t] = from[taps - 1 - t] }
                }
            }
            forward(weights: flipped, outChannels: channels, kernel: k, input: dy, channels: outChannels,
                    height: height, width: width, into: gradInput, threads: threads, scratch: work)
        }
        guard let gradWeight else { return }
        let rows = tileRows(channels: channels, width: width, height: height, kernel: k)
        let transposed = work + (k == 1 ? 0 : depth * rows * width)
        var r0 = 0
        while r0 < height {
            let r1 = min(height, r0 + rows), n = (r1 - r0) * width
            let b: UnsafePointer<Float>, ldb: Int
            if k == 1 {
                b = input + r0 * width
                ldb = plane
            } else {
                gather(input, channels: channels, height: height, width: width, kernel: k, rows: r0..<r1, into: work)
                b = UnsafePointer(work)
                ldb = n
            }
            // Split by columns of dW (rows of the im2col block): each part packs only its rows of
            // the large operand; split by output channels, every part packed all of it again.
            parallelBlocks(depth, costPerItem: 2 * outChannels * n) { part in
                if n >= transposedGradientColumns {
                    // dWᵀ of these columns, then added: O·|part| floats against 2·O·|part|·n flops.
                    let t = transposed + part.lowerBound * outChannels
                    BLAS.gemm(transB: true, m: part.count, n: outChannels, k: n, a: b + part.lowerBound * ldb, lda: ldb,
                              b: dy + r0 * width, ldb: plane, c: t, ldc: outChannels)
                    for o in 0..<outChannels {
                        let row = gradWeight + o * depth + part.lowerBound, column = t + o
                        for d in 0..<part.count { row[d] += column[d * outChannels] }
                    }
                } else {
                    BLAS.gemm(transB: true, m: outChannels, n: part.count, k: n, a: dy + r0 * width, lda: plane,
                              b: b + part.lowerBound * ldb, ldb: ldb, beta: 1, c: gradWeight + part.lowerBound, ldc: depth)
                }
            }
            r0 = r1
        }
    }
}
