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
        // Where each tap reads, relative to output element 0, in the phase buffer.
        var offsets: [Int] = []
        for i in 0..<g.kernelH {
            for j in 0..<g.kernelW {
                let phase = (i % sh) * sw + j % sw
                offsets.append(phase * phaseFloats + (i / sh) * pw + j / sw)
            }
        }
        parallelBlocks(x.channels, costPerItem: 2 * g.taps * out.row) { channels in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: sh * sw * phaseFloats + span) { buffer in
                let phases = buffer.baseAddress!
                let acc = phases + sh * sw * phaseFloats
                // Padding cells are never written: zero them once for the whole block.
                phases.update(repeating: 0, count: sh * sw * phaseFloats)
                offsets.withUnsafeBufferPointer { offsets in
                    for c in channels {
                        let w = weight + c * g.taps
                        for n in 0..<x.batch {
                            scatter(UnsafePointer(x.channel(c) + n * x.plane), x, g, phases: phases, pw: pw, phaseFloats: phaseFloats)
                            sumTaps(phases, offsets: offsets, weights: w, into: acc, count: span)
                            let dst = out.channel(c) + n * out.plane
                            for oh in 0..<out.height { (dst + oh &* out.width).update(from: acc + oh &* pw, count: out.width) }
                        }
                        if !epilogue.isIdentity { epilogue.apply(channel: c, out.channel(c), count: out.row) }
                    }
                }
            }
        }
    }

    /// Writes the `src` plane into the interior of its zero-padded phases: padded column
    /// `px = col + padW` goes to phase `px % sw`, index `px / sw` (walked with a stride, no division).
    @inline(__always)
    private static func scatter(_ src: UnsafePointer<Float>, _ x: FeatureMap, _ g: ConvGeometry,
                                phases: UnsafeMutablePointer<Float>, pw: Int, phaseFloats: Int) {
        let sh = g.strideH, sw = g.strideW
        for y in 0..<x.height {
            let py = y &+ g.padH
            let rowBase = phases + (py % sh) &* sw &* phaseFloats + (py / sh) &* pw
            let row = src + y &* x.width
            if sw == 1 {
                (rowBase + g.padW).update(from: row, count: x.width)
            } else {
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
    }

    /// `out[k] = Σ_t weights[t] · phases[offsets[t] + k]` for `k < count`, eight outputs at a
    /// time held in a register across all taps.
    @inline(__always)
    private static func sumTaps(_ phases: UnsafePointer<Float>, offsets: UnsafeBufferPointer<Int>,
                                weights: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int) {
        var k = 0
        while k &+ 8 <= count {
            var acc = SIMD8<Float>()
            for t in 0..<offsets.count {
                let at: Int = offsets[t] &+ k
                let v = UnsafeRawPointer(phases + at).loadUnaligned(as: SIMD8<Float>.self)
                acc += weights[t] * v
            }
            UnsafeMutableRawPointer(out + k).storeBytes(of: acc, as: SIMD8<Float>.self)
            k &+= 8
        }
        while k < count {
            var acc: Float = 0
            for t in 0..<offsets.count { acc += weights[t] * phases[offsets[t] &+ k] }
            out[k] = acc
            k &+= 1
        }
    }
}
