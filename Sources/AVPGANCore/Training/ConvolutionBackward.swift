/// Sums each channel row of `map` into `into[c]` (accumulates): the bias gradient of a
/// convolution whose output gradient is `map`. Sums in Double; parallel over channels.
func accumulateChannelSums(_ map: FeatureMap, into: UnsafeMutablePointer<Float>) {
    parallelFor(map.channels, costPerItem: map.row) { c in
        into[c] += Float(doubleSum(map.channel(c), count: map.row))
    }
}

/// The im2col matrix of `map` for a convolution of `geometry` whose output is `outH x outW`,
/// as a GEMM operand `[channels * taps, batch * outH * outW]` with its leading dimension: the map
/// itself when pointwise, else gathered into `cols`.
func im2colOperand(_ map: FeatureMap, geometry: ConvGeometry, outH: Int, outW: Int,
                   cols: UnsafeMutablePointer<Float>) -> (pointer: UnsafePointer<Float>, ld: Int) {
    if geometry.isPointwise { return (UnsafePointer(map.data), map.stride) }
    Im2col.gather(map, firstChannel: 0, channels: map.channels, geometry: geometry, outH: outH, outW: outW, into: cols)
    return (UnsafePointer(cols), outH * outW * map.batch)
}

/// A convolution's weight gradient, ADDED: `grad[rows, width] += a[rows, n] · b[width, n]ᵀ` with
/// `a` a map's channel rows and `b` an im2col operand; each thread a block of `a`'s rows.
func accumulateWeightGradient(_ a: FeatureMap, times b: (pointer: UnsafePointer<Float>, ld: Int), width: Int,
                              into grad: UnsafeMutablePointer<Float>) {
    let n = a.row
    parallelBlocks(a.channels, costPerItem: 2 * width * n) { rows in
        BLAS.gemm(transB: true, m: rows.count, n: width, k: n, a: a.channel(rows.lowerBound), lda: a.stride,
                  b: b.pointer, ldb: b.ld, beta: 1, c: grad + rows.lowerBound * width, ldc: width)
    }
}

extension Conv2d: GEMMConvolutionBackward {
    /// Reverse mode of `forward` without epilogue (the bias is `gradBias`; activations and
    /// BatchNorm have their own backward). Groups 1 only. Conv1d is the same call with kh = 1.
    /// - Parameters:
    ///   - input: the forward's input x, `in x batch x h x w` (CNHW; may be a view).
    ///   - gradOutput: dL/dy, `out x batch x oh x ow`.
    ///   - gradInput: if non-nil, OVERWRITTEN with dL/dx (`in x batch x h x w`); must not alias
    ///     `input`, `gradOutput` or `cols`.
    ///   - gradWeight: if non-nil, dL/dW (`[out, in, kh, kw]` row-major) is ADDED to it.
    ///   - gradBias: if non-nil, dL/db (`out` floats, sum of dy over batch and positions) is ADDED.
    ///   - cols: `backwardScratchCount` floats (unused for pointwise convolutions): one im2col matrix
    ///     `[in * kh * kw, batch * oh * ow]`, reused for the columns of x (dW) and then for the
    ///     column gradient (dX).
    /// dW = dY · colsᵀ, dCols = Wᵀ · dY then col2im, all GEMMs on OpenBLAS (single-threaded),
    /// split over the library's threads by blocks of GEMM rows.
    func backward(
        input: FeatureMap, gradOutput dy: FeatureMap, gradInput: FeatureMap?,
        gradWeight: UnsafeMutablePointer<Float>?, gradBias: UnsafeMutablePointer<Float>?,
        cols: UnsafeMutablePointer<Float>
    ) {
        precondition(geometry.groups == 1, "Conv2d.backward supports groups 1")
        precondition(input.channels == inChannels && dy.channels == outChannels && dy.batch == input.batch)
        let k = inChannels * geometry.taps
        let n = dy.row
        if let gradBias { accumulateChannelSums(dy, into: gradBias) }
        if let gradWeight {
            // dW[out, k] += dY[out, n] · cols[k, n]ᵀ, each thread a block of output channels.
            let columns = im2colOperand(input, geometry: geometry, outH: dy.height, outW: dy.width, cols: cols)
            accumulateWeightGradient(dy, times: columns, width: k, into: gradWeight)
        }
        if let dx = gradInput {
            precondition(dx.channels == inChannels && dx.batch == input.batch && dx.height == input.height && dx.width == input.width)
            if geometry.isPointwise {
                // dX[in, n] = Wᵀ[in, out] · dY[out, n], each thread a block of input channels.
                parallelBlocks(inChannels, costPerItem: 2 * outChannels * n) { rows in
                    BLAS.gemm(transA: true, m: rows.count, n: n, k: outChannels, a: weight.pointer + rows.lowerBound, lda: k,
                              b: dy.data, ldb: dy.stride, c: dx.channel(rows.lowerBound), ldc: dx.stride)
                }
            } else {
                // dCols[k, n] = Wᵀ[k, out] · dY[out, n], each thread a block of rows.
                parallelBlocks(k, costPerItem: 2 * outChannels * n) { rows in
                    BLAS.gemm(transA: true, m: rows.count, n: n, k: outChannels, a: weight.pointer + rows.lowerBound, lda: k,
                              b: dy.data, ldb: dy.stride, c: cols + rows.lowerBound * n, ldc: n)
                }
                Col2im.scatter(cols, geometry: geometry, smallH: dy.height, smallW: dy.width, into: dx)
            }
        }
    }
}
