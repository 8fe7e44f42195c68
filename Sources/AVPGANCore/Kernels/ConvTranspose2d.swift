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
    func forward(_ input: FeatureMap, into out: FeatureMap, epilogue: Epilogue, cols: UnsafeMutablePointer<Float>) {
        let rows = outChannels * geometry.taps
        let n = input.row
        if geometry.isPointwise {
            BLAS.gemm(transA: true, m: outChannels, n: n, k: inChannels,
                      a: weight.pointer, lda: outChannels, b: input.data, ldb: n, c: out.data, ldc: n)
            epilogue.apply(to: out)
            return
        }
        BLAS.gemm(transA: true, m: rows, n: n, k: inChannels,
                  a: weight.pointer, lda: rows, b: input.data, ldb: n, c: cols, ldc: n)
        scatter(cols: UnsafePointer(cols), input: input, into: out, epilogue: epilogue)
    }

    /// col2im: adds every tap's column block into the output plane it reaches, one output
    /// channel per task (so no two tasks write the same memory), then the epilogue.
    private func scatter(cols: UnsafePointer<Float>, input: FeatureMap, into out: FeatureMap, epilogue: Epilogue) {
        let g = geometry
        let n = input.row
        parallelFor(outChannels, costPerItem: g.taps * n) { co in
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
            epilogue.apply(channel: co, channel, count: out.row)
        }
    }
}
