/// The shape of a 2-D convolution window. 1-D convolutions are 2-D ones with a 1-high kernel
/// over a 1-high signal.
struct ConvGeometry: Equatable {
    var kernelH: Int, kernelW: Int
    var strideH: Int = 1, strideW: Int = 1
    var padH: Int = 0, padW: Int = 0
    var groups: Int = 1

    static func square(_ k: Int, stride: Int = 1, padding: Int = 0, groups: Int = 1) -> ConvGeometry {
        ConvGeometry(kernelH: k, kernelW: k, strideH: stride, strideW: stride, padH: padding, padW: padding, groups: groups)
    }

    static func line(_ k: Int, stride: Int = 1, padding: Int = 0, groups: Int = 1) -> ConvGeometry {
        ConvGeometry(kernelH: 1, kernelW: k, strideH: 1, strideW: stride, padH: 0, padW: padding, groups: groups)
    }

    var taps: Int { kernelH * kernelW }
    var isPointwise: Bool { taps == 1 && strideH == 1 && strideW == 1 && padH == 0 && padW == 0 }

    /// Output size of a convolution of an `h x w` input (torch's floor rule); nil when empty.
    func convOutput(h: Int, w: Int) -> (h: Int, w: Int)? {
        let oh = (h + 2 * padH - kernelH) / strideH + 1
        let ow = (w + 2 * padW - kernelW) / strideW + 1
        guard h + 2 * padH >= kernelH, w + 2 * padW >= kernelW, oh > 0, ow > 0 else { return nil }
        return (oh, ow)
    }

    /// Output size of a transposed convolution of an `h x w` input (no output padding).
    func transposedOutput(h: Int, w: Int) -> (h: Int, w: Int)? {
        let oh = (h - 1) * strideH - 2 * padH + kernelH
        let ow = (w - 1) * strideW - 2 * padW + kernelW
        return oh > 0 && ow > 0 ? (oh, ow) : nil
    }
}

/// Conv1d/Conv2d as torch defines them (cross-correlation, zero padding, groups), computed as
/// im2col + one OpenBLAS GEMM per group over the whole batch.
/// weight: `[out, in / groups, kh, kw]` row-major (a Conv1d weight `[out, in, k]` is the same
/// memory with kh = 1). The bias, a BatchNorm and the activation are the caller's `Epilogue`.
struct Conv2d {
    let weight: FloatStorage
    let inChannels: Int
    let outChannels: Int
    let geometry: ConvGeometry
    /// Split a GEMM much wider than tall by columns across threads (each packs only its part
    /// of B) instead of by rows. Off where bit-identical results with earlier versions matter
    /// (training, whose seeded runs reproduce committed models); on for the face networks.
    let splitsWideColumns: Bool

    init(weight: FloatStorage, inChannels: Int, outChannels: Int, geometry: ConvGeometry, splitsWideColumns: Bool = false) {
        precondition(inChannels % geometry.groups == 0 && outChannels % geometry.groups == 0)
        self.weight = weight
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.geometry = geometry
        self.splitsWideColumns = splitsWideColumns
    }

    /// One filter per channel (groups = in = out, not 1x1): computed by `DepthwiseConv`.
    var isDepthwise: Bool { geometry.groups > 1 && geometry.groups == inChannels && inChannels == outChannels && !geometry.isPointwise }

    /// Floats of im2col scratch a forward of `input`'s shape needs (0 for pointwise and
    /// depthwise convs).
    func scratchCount(batch: Int, h: Int, w: Int) -> Int {
        guard !geometry.isPointwise, !isDepthwise, let (oh, ow) = geometry.convOutput(h: h, w: w) else { return 0 }
        return inChannels / geometry.groups * geometry.taps * batch * oh * ow
    }

    /// out = epilogue(conv(input)); `out.data` must hold `outChannels x batch x oh x ow` floats
    /// and not alias `input`; `cols` at least `scratchCount` floats. Each thread computes a block
    /// of output channels (its GEMM rows) and applies their epilogue.
    ///
    /// `gathered`: `cols` already holds the im2col of the input (one group; VoiceEncoder builds it
    /// straight from frame-major features), so `input` only gives the shape.
    func forward(_ input: FeatureMap, into out: FeatureMap, epilogue: Epilogue = .none, cols: UnsafeMutablePointer<Float>,
                 gathered: Bool = false) {
        if isDepthwise {
            DepthwiseConv.forward(input, weight: weight.pointer, geometry: geometry, into: out, epilogue: epilogue)
            return
        }
        let g = geometry.groups
        let inPerGroup = inChannels / g
        let outPerGroup = outChannels / g
        let k = inPerGroup * geometry.taps
        let n = out.row
        for group in 0..<g {
            let b: UnsafePointer<Float>
            let ldb: Int
            if geometry.isPointwise {
                b = UnsafePointer(input.channel(group * inPerGroup))
                ldb = input.stride
            } else {
                precondition(!gathered || g == 1, "pre-gathered columns are for one group")
                if !gathered {
                    Im2col.gather(input, firstChannel: group * inPerGroup, channels: inPerGroup,
                                  geometry: geometry, outH: out.height, outW: out.width, into: cols)
                }
                b = UnsafePointer(cols)
                ldb = n
            }
            if outPerGroup == 1 {
                // One output row (CBAM's spatial gate, depthwise groups): a GEMV, split by columns.
                let c = group
                parallelBlocks(n, costPerItem: 2 * k) { columns in
                    BLAS.gemv(trans: true, rows: k, cols: columns.count, a: b + columns.lowerBound, lda: ldb,
                              x: weight.pointer + c * k, y: out.channel(c) + columns.lowerBound)
                    if !epilogue.isIdentity {
                        epilogue.apply(channel: c, out.channel(c) + columns.lowerBound, count: columns.count)
                    }
                }
                continue
            }
            if splitsWideColumns && n >= 4 * outPerGroup {
                // Much wider than tall (early layers of a small batch): split the columns, so
                // that each thread packs only its part of the wide operand B.
                let first = group * outPerGroup
                parallelBlocks(n, costPerItem: 2 * k * outPerGroup) { columns in
                    BLAS.gemm(m: outPerGroup, n: columns.count, k: k, a: weight.pointer + first * k, lda: k,
                              b: b + columns.lowerBound, ldb: ldb, c: out.channel(first) + columns.lowerBound, ldc: out.stride)
                    for c in first..<(first + outPerGroup) where !epilogue.isIdentity {
                        epilogue.apply(channel: c, out.channel(c) + columns.lowerBound, count: columns.count)
                    }
                }
                continue
            }
            parallelBlocks(outPerGroup, costPerItem: 2 * k * n) { rows in
                let first = group * outPerGroup + rows.lowerBound
                BLAS.gemm(m: rows.count, n: n, k: k, a: weight.pointer + first * k, lda: k,
                          b: b, ldb: ldb, c: out.channel(first), ldc: out.stride)
                for c in first..<(first + rows.count) where !epilogue.isIdentity {
                    epilogue.apply(channel: c, out.channel(c), count: n)
                }
            }
        }
    }
}

/// The im2col rearrangement for CNHW maps: row `(c, i, j)` of the result holds, for every image
/// and output position, the input value under kernel tap `(i, j)` of channel `c` (0 in padding).
enum Im2col {
    static func gather(
        _ x: FeatureMap, firstChannel: Int, channels: Int, geometry g: ConvGeometry,
        outH: Int, outW: Int, into cols: UnsafeMutablePointer<Float>
    ) {
        let rowLength = x.batch * outH * outW
        parallelFor(channels * g.taps, costPerItem: rowLength) { r in
            let c = firstChannel + r / g.taps
            let i = (r / g.kernelW) % g.kernelH
            let j = r % g.kernelW
            // Output columns whose input column lies inside the image: lo..<hi.
            let offset = j - g.padW
            let lo = offset >= 0 ? 0 : (-offset + g.strideW - 1) / g.strideW
            let hi = max(lo, min(outW, offset < x.width ? (x.width - 1 - offset) / g.strideW + 1 : 0))
            var dst = cols + r * rowLength
            for n in 0..<x.batch {
                let image = UnsafePointer(x.channel(c) + n * x.plane)
                for oh in 0..<outH {
                    let ih = oh * g.strideH - g.padH + i
                    if ih < 0 || ih >= x.height {
                        dst.update(repeating: 0, count: outW)
                    } else {
                        let src = image + ih * x.width + offset
                        if lo > 0 { dst.update(repeating: 0, count: lo) }
                        if g.strideW == 1 {
                            (dst + lo).update(from: src + lo, count: hi - lo)
                        } else if g.strideW == 2 {
                            Im2col.gatherEven(src, into: dst, lo, hi)
                        } else {
                            let s = g.strideW
                            for ow in lo..<hi { dst[ow] = src[ow * s] }
                        }
                        if hi < outW { (dst + hi).update(repeating: 0, count: outW - hi) }
                    }
                    dst += outW
                }
            }
        }
    }

    /// `dst[i] = src[2 i]` for `i` in `lo..<hi`, eight at a time: the even lanes of
    /// `src[2i ..< 2i + 8]` and the odd lanes of `src[2i + 7 ..< 2i + 15]`, so nothing past
    /// `src[2 (hi - 1)]` is read. A last, overlapping group of eight covers the remainder.
    @inline(__always)
    static func gatherEven(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, _ lo: Int, _ hi: Int) {
        @inline(__always) func group(_ i: Int) {
            let a = UnsafeRawPointer(src + 2 * i).loadUnaligned(as: SIMD8<Float>.self)
            let b = UnsafeRawPointer(src + 2 * i + 7).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(dst + i).storeBytes(of: SIMD8(lowHalf: a.evenHalf, highHalf: b.oddHalf), as: SIMD8<Float>.self)
        }
        guard hi - lo >= 8 else {
            for i in lo..<hi { dst[i] = src[2 * i] }
            return
        }
        var i = lo
        while i + 8 <= hi { group(i); i += 8 }
        if i < hi { group(hi - 8) }
    }
}
