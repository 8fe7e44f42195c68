/// col2im, the adjoint of `Im2col.gather`: adds every column-block entry back to the input
/// position its kernel tap reads. The convolution backward (dX) and the transposed convolution
/// forward both use it.
enum Col2im {
    /// Overwrites channels `0..<x.channels` of `x` (the "big" map, `x.height x x.width`) with
    /// the scatter of `cols`, whose row `(c, i, j)` holds `x.batch * smallH * smallW` floats: the
    /// value that tap `(i, j)` of channel `c` contributes at small position `(oh, ow)` goes to big
    /// position `(oh * stride - pad + i, ow * stride - pad + j)` (dropped in padding).
    /// Parallel over channels (each writes only its own channel row).
    static func scatter(
        _ cols: UnsafePointer<Float>, geometry g: ConvGeometry, smallH: Int, smallW: Int, into x: FeatureMap
    ) {
        parallelFor(x.channels, costPerItem: g.taps * x.batch * smallH * smallW) { c in
            scatterChannel(cols, channel: c, geometry: g, smallH: smallH, smallW: smallW, into: x)
        }
    }

    /// `scatter` for channel `c` alone (zeroes that channel's row first).
    static func scatterChannel(
        _ cols: UnsafePointer<Float>, channel c: Int, geometry g: ConvGeometry, smallH: Int, smallW: Int, into x: FeatureMap
    ) {
        let n = x.batch * smallH * smallW
        let smallPlane = smallH * smallW
        let channel = x.channel(c)
        channel.update(repeating: 0, count: x.row)
        for i in 0..<g.kernelH {
            for j in 0..<g.kernelW {
                let block = cols + (c * g.taps + i * g.kernelW + j) * n
                // Small columns w whose big column w*s - p + j lies inside: lo..<hi.
                let offset = j - g.padW
                let lo = offset >= 0 ? 0 : (-offset + g.strideW - 1) / g.strideW
                let hi = max(lo, min(smallW, offset < x.width ? (x.width - 1 - offset) / g.strideW + 1 : 0))
                guard hi > lo else { continue }
                for b in 0..<x.batch {
                    let srcImage = block + b * smallPlane
                    let dstImage = channel + b * x.plane
                    for h in 0..<smallH {
                        let bh = h * g.strideH - g.padH + i
                        guard bh >= 0 && bh < x.height else { continue }
                        let src = srcImage + h * smallW
                        let dst = dstImage + bh * x.width + offset
                        if g.strideW == 1 {
                            for w in lo..<hi { dst[w] += src[w] }
                        } else if g.strideW == 2 {
                            Col2im.addEven(src, into: dst, lo, hi)
                        } else {
                            let s = g.strideW
                            for w in lo..<hi { dst[w * s] += src[w] }
                        }
                    }
                }
            }
        }
    }

    /// `dst[2 i] += src[i]` for `i` in `lo..<hi`, eight at a time: `dst[2i ..< 2i + 8]` takes
    /// four in its even lanes and `dst[2i + 7 ..< 2i + 15]` four in its odd lanes (both loaded
    /// before either is stored; the shared `dst[2i + 7]` is written back unchanged). Nothing
    /// past `dst[2 (hi - 1)]` is touched, so neighbouring rows, which other threads may own,
    /// are never read or written.
    @inline(__always)
    static func addEven(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, _ lo: Int, _ hi: Int) {
        var i = lo
        while i + 8 <= hi {
            let pa = UnsafeMutableRawPointer(dst + 2 * i), pb = UnsafeMutableRawPointer(dst + 2 * i + 7)
            var a = pa.loadUnaligned(as: SIMD8<Float>.self), b = pb.loadUnaligned(as: SIMD8<Float>.self)
            let v = UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<Float>.self)
            a.evenHalf += v.lowHalf
            b.oddHalf += v.highHalf
            pa.storeBytes(of: a, as: SIMD8<Float>.self)
            pb.storeBytes(of: b, as: SIMD8<Float>.self)
            i += 8
        }
        while i < hi { dst[2 * i] += src[i]; i += 1 }
    }
}
