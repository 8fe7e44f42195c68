/// A depthwise convolution (groups = in = out channels, one `kh x kw` filter per channel)
/// computed directly rather than as im2col + a GEMV per channel, which would move `taps` times
/// the data for the same sums.
///
/// Per channel and image, the zero-padded input plane is split into `sH x sW` phase planes
/// (phase `(a, b)` holds padded rows `a, a + sH, …` and columns `b, b + sW, …`, each phase
/// `PW` columns wide). In a phase's coordinates the input under tap `(i, j)` for output
/// `(oh, ow)` is element `(oh + i / sH) · PW + ow + j / sW` of phase `(i % sH, j % sW)`, so for
/// an output laid out `PW` wide, every tap is ONE contiguous multiply-add over the whole output
/// plane at a fixed offset: `taps` long vector loops instead of short rows and edge cases.
/// The `PW - OW` spare columns of each output row are computed and dropped.
/// Layout as `Conv2d`: weight `[C, 1, kh, kw]`, maps CNHW; threads split the channels.
enum DepthwiseConv {
    /// out = epilogue(depthwise(input)); `out` must not alias `input`.
    static func forward(_ x: FeatureMap, weight: UnsafePointer<Float>, geometry g: ConvGeometry,
                        into out: FeatureMap, epilogue: Epilogue) {
        let sh = g.strideH, sw = g.strideW
        let paddedH = x.height + 2 * g.padH, paddedW = x.width + 2 * g.padW
        let ph = (paddedH + sh - 1) / sh, pw = (paddedW + sw - 1) / sw
        let phaseFloats = ph * pw
        let span = (out.height - 1) * pw + out.width  // output floats in PW-wide layout
        parallelFor(x.channels, costPerItem: 2 * g.taps * out.row) { c in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: sh * sw * phaseFloats + span) { buffer in
                let phases = buffer.baseAddress!
                let acc = phases + sh * sw * phaseFloats
                let w = weight + c * g.taps
                for n in 0..<x.batch {
                    // Scatter the plane into its phases; padding stays zero.
                    phases.update(repeating: 0, count: sh * sw * phaseFloats)
                    let src = UnsafePointer(x.channel(c) + n * x.plane)
                    for y in 0..<x.height {
                        let py = y &+ g.padH
                        let rowBase = phases + (py % sh) &* sw &* phaseFloats + (py / sh) &* pw
                        let row = src + y &* x.width
                        if sw == 1 {
                            (rowBase + g.padW).update(from: row, count: x.width)
                        } else {
                            // Padded column px = col + padW goes to phase px % sw, index px / sw:
                            // walk each phase's columns with a stride instead of dividing.
                            for b in 0..<sw {
                                var col = (b &- g.padW % sw &+ sw) % sw
                                var dst = rowBase + b &* phaseFloats + (col &+ g.padW) / sw
                                while col < x.width {
                                    dst.pointee = row[col]
                                    dst += 1
                                    col &+= sw
                                }
                            }
                        }
                    }
                    // One multiply-add over the plane per tap.
                    acc.update(repeating: 0, count: span)
                    for i in 0..<g.kernelH {
                        for j in 0..<g.kernelW {
                            let phase: Int = (i % sh) &* sw &+ j % sw
                            let offset: Int = phase &* phaseFloats &+ (i / sh) &* pw &+ j / sw
                            let tap = UnsafePointer(phases + offset)
                            multiplyAdd(w[i &* g.kernelW &+ j], tap, into: acc, count: span)
                        }
                    }
                    let dst = out.channel(c) + n * out.plane
                    for oh in 0..<out.height { (dst + oh &* out.width).update(from: acc + oh &* pw, count: out.width) }
                }
            }
            if !epilogue.isIdentity { epilogue.apply(channel: c, out.channel(c), count: out.row) }
        }
    }

    /// `y[k] += a · x[k]` for `k < count`, eight lanes at a time.
    @inline(__always)
    static func multiplyAdd(_ a: Float, _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        var k = 0
        let va = SIMD8<Float>(repeating: a)
        while k &+ 8 <= count {
            let px = UnsafeRawPointer(x + k), py = UnsafeMutableRawPointer(y + k)
            py.storeBytes(of: py.loadUnaligned(as: SIMD8<Float>.self) + va * px.loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
            k &+= 8
        }
        while k < count { y[k] += a * x[k]; k &+= 1 }
    }
}
