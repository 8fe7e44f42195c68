/// ConvTranspose2d as torch defines it (groups 1, no output padding, no dilation), computed as
/// one OpenBLAS GEMM over the whole batch followed by col2im:
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
                scatter(channel: c, cols: UnsafePointer(cols), input: input, into: out)
                epilogue.apply(channel: c, out.channel(c), count: out.row)
            }
        }
    }

    /// col2im for output channel `co`: adds every tap's column block into the positions it
    /// reaches (zero first).
    private func scatter(channel co: Int, cols: UnsafePointer<Float>, input: FeatureMap, into out: FeatureMap) {
        let g = geometry
        let n = input.row
        let channel = out.channel(co)
        channel.update(repeating: 0, count: out.row)
        for i in 0..<g.kernelH {
            for j in 0..<g.kernelW {
                let block = cols + (co * g.taps + i * g.kernelW + j) * n
                // Input columns w whose output column w*s - p + j lies inside: lo..<hi.
                let offset = j - g.padW
                let lo = offset >= 0 ? 0 : (-offset + g.strideW - 1) / g.strideW
                let hi = max(lo, min(input.width, offset < out.width ? (out.width - 1 - offset) / g.strideW + 1 : 0))
                for b in 0..<input.batch {
                    let srcImage = block + b * input.plane
                    let dstImage = channel + b * out.plane
                    for h in 0..<input.height {
                        let oh = h * g.strideH - g.padH + i
                        guard oh >= 0 && oh < out.height else { continue }
                        let src = srcImage + h * input.width
                        let dst = dstImage + oh * out.width + offset
                        if g.strideW == 1 {
                            for w in lo..<hi { dst[w] += src[w] }
                        } else {
                            let s = g.strideW
                            for w in lo..<hi { dst[w * s] += src[w] }
                        }
                    }
                }
            }
        }
    }
}
