/// ConvTranspose2d as torch defines it (groups 1, no output padding, no dilation), computed as
/// one OpenBLAS GEMM over the whole batch followed by col2im (`Col2im`):
/// `cols[out*kh*kw, batch*h*w] = Wᵀ · x`, then every column scattered to the output positions
/// its taps reach. weight: `[in, out, kh, kw]` row-major. The bias and activation are applied
/// by the caller's `Epilogue`, fused into the scatter.
struct ConvTranspose2d {
    let weight: FloatStorage
    let inChannels: Int
    let outChannels: Int
    let geometry: ConvGeometry

    /// Floats of GEMM scratch a forward over `batch` images of `h x w` needs (0 when pointwise).
    func scratchCount(batch: Int, h: Int, w: Int) -> Int {
        geometry.isPointwise ? 0 : outChannels * geometry.taps * batch * h * w
    }

    /// out = epilogue(convT(input)); `out.data` holds `outChannels x batch x oh x ow` floats.
    /// Each thread computes a block of output channels: their GEMM rows, scatter and epilogue.
    func forward(_ input: FeatureMap, into out: FeatureMap, epilogue: Epilogue, cols: UnsafeMutablePointer<Float>) {
        let taps = geometry.taps
        let n = input.row
        let lda = outChannels * taps
        parallelBlocks(outChannels, costPerItem: 2 * taps * inChannels * n) { channels in
            let first = channels.lowerBound
            if geometry.isPointwise {
                BLAS.gemm(transA: true, m: channels.count, n: n, k: inChannels,
                          a: weight.pointer + first, lda: lda, b: input.data, ldb: input.stride,
                          c: out.channel(first), ldc: out.stride)
                for c in channels where !epilogue.isIdentity { epilogue.apply(channel: c, out.channel(c), count: out.row) }
                return
            }
            BLAS.gemm(transA: true, m: channels.count * taps, n: n, k: inChannels,
                      a: weight.pointer + first * taps, lda: lda, b: input.data, ldb: input.stride,
                      c: cols + first * taps * n, ldc: n)
            for c in channels {
                Col2im.scatterChannel(UnsafePointer(cols), channel: c, geometry: geometry,
                                      smallH: input.height, smallW: input.width, into: out)
                epilogue.apply(channel: c, out.channel(c), count: out.row)
            }
        }
    }
}
