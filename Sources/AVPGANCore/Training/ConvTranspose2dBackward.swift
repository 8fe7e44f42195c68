extension ConvTranspose2d: GEMMConvolutionBackward {
    /// Reverse mode of `forward` without epilogue (groups 1, no output padding).
    /// dCols = im2col(dY) (the forward's col2im adjoint), dX = W · dCols, dW += x · dColsᵀ; the
    /// GEMMs are split over threads by blocks of input channels (OpenBLAS itself single-threaded).
    /// - Parameters:
    ///   - input: the forward's input x, `in x batch x h x w`.
    ///   - gradOutput: dL/dy, `out x batch x oh x ow`.
    ///   - gradInput: if non-nil, OVERWRITTEN with dL/dx; must not alias the other buffers.
    ///   - gradWeight: if non-nil, dL/dW (`[in, out, kh, kw]` row-major) is ADDED.
    ///   - gradBias: if non-nil, dL/db (`out` floats) is ADDED.
    ///   - cols: `backwardScratchCount` floats (the im2col of dY, `[out * kh * kw, batch * h * w]`).
    func backward(
        input: FeatureMap, gradOutput dy: FeatureMap, gradInput: FeatureMap?,
        gradWeight: UnsafeMutablePointer<Float>?, gradBias: UnsafeMutablePointer<Float>?,
        cols: UnsafeMutablePointer<Float>
    ) {
        precondition(geometry.groups == 1)
        precondition(input.channels == inChannels && dy.channels == outChannels && dy.batch == input.batch)
        let kk = outChannels * geometry.taps
        let n = input.row
        if let gradBias { accumulateChannelSums(dy, into: gradBias) }
        guard gradWeight != nil || gradInput != nil else { return }
        let columns = im2colOperand(dy, geometry: geometry, outH: input.height, outW: input.width, cols: cols)
        let b = columns.pointer, ldb = columns.ld
        if let gradWeight {
            // dW[in, out*taps] += x[in, n] · dCols[out*taps, n]ᵀ
            accumulateWeightGradient(input, times: columns, width: kk, into: gradWeight)
        }
        if let dx = gradInput {
            precondition(dx.channels == inChannels && dx.batch == input.batch && dx.height == input.height && dx.width == input.width)
            // dX[in, n] = W[in, out*taps] · dCols[out*taps, n]
            parallelBlocks(inChannels, costPerItem: 2 * kk * n) { rows in
                BLAS.gemm(m: rows.count, n: n, k: kk, a: weight.pointer + rows.lowerBound * kk, lda: kk, b: b, ldb: ldb,
                          c: dx.channel(rows.lowerBound), ldc: dx.stride)
            }
        }
    }
}
