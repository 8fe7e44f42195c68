/// `F.interpolate(x, scale_factor=f, mode="bilinear", align_corners=False)` (no antialias) on
/// planar images `[C, H, W]`, with torch's arithmetic: output index d reads the input at
/// `max(0, (d + 0.5) / f - 0.5)`, the two neighbours (the second clamped to the last sample)
/// weighted by the fraction; a row is `t0 * h0 + t1 * h1` of the horizontally interpolated
/// rows `t = a * w0 + b * w1`. The enhancer resamples by f = 2 and f = 0.5 only.
enum Bilinear {
    /// The two taps and weights of every output sample along one axis.
    struct Axis {
        var first: [Int] = [], second: [Int] = []
        var w0: [Float] = [], w1: [Float] = []

        /// `ratio` is 1 / scale_factor, as torch uses it when a scale factor is given.
        init(input: Int, output: Int, ratio: Float) {
            for d in 0..<output {
                let src = max(ratio * (Float(d) + 0.5) - 0.5, 0)
                let i0 = min(Int(src), input - 1)
                let lambda = src - Float(i0)
                first.append(i0)
                second.append(i0 < input - 1 ? i0 + 1 : i0)
                w1.append(lambda)
                w0.append(1 - lambda)
            }
        }

        /// `body(first, second, w0, w1)` with the taps as buffers, valid during the call only.
        @inline(__always)
        func withTaps(_ body: (UnsafeBufferPointer<Int>, UnsafeBufferPointer<Int>, UnsafeBufferPointer<Float>,
                               UnsafeBufferPointer<Float>) -> Void) {
            first.withUnsafeBufferPointer { x0 in
            second.withUnsafeBufferPointer { x1 in
            w0.withUnsafeBufferPointer { a0 in
            w1.withUnsafeBufferPointer { a1 in
                body(x0, x1, a0, a1)
            }}}}
        }
    }

    /// The geometry of a resize of `height x width` by f = 2 (`up`) or 0.5: the output size and
    /// both axes' taps, as `resize` reads the input and `backward` sends the gradient back.
    struct Plan {
        let outH: Int, outW: Int
        /// The taps along a row (`width` to `outW`) and down the rows (`height` to `outH`).
        let across: Axis, down: Axis

        init(height: Int, width: Int, up: Bool) {
            outH = up ? 2 * height : height / 2
            outW = up ? 2 * width : width / 2
            let ratio: Float = up ? 0.5 : 2
            across = Axis(input: width, output: outW, ratio: ratio)
            down = Axis(input: height, output: outH, ratio: ratio)
        }
    }

    /// `dst[C, H * f, W * f]` from `src[C, H, W]`, f = 2 (`up`) or 0.5 (H and W even).
    /// `scratch` holds at least `2 * threads * W * f` floats (two interpolated rows a thread).
    static func resize(_ src: UnsafePointer<Float>, channels: Int, height: Int, width: Int, up: Bool, threads maxThreads: Int,
                       into dst: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        let plan = Plan(height: height, width: width, up: up)
        let outH = plan.outH, outW = plan.outW, down = plan.down
        let threads = max(1, min(maxThreads, channels))
        plan.across.withTaps { x0, x1, a0, a1 in
            parallelFor(threads, costPerItem: channels * outH * outW * 6 / threads) { t in
                let rowA = scratch + 2 * t * outW, rowB = rowA + outW
                @inline(__always) func interpolate(_ row: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
                    for x in 0..<outW { out[x] = row[x0[x]] * a0[x] + row[x1[x]] * a1[x] }
                }
                for c in (channels * t / threads)..<(channels * (t + 1) / threads) {
                    let plane = src + c * height * width, target = dst + c * outH * outW
                    var loaded = (-1, -1)
                    for y in 0..<outH {
                        let r0 = down.first[y], r1 = down.second[y]
                        if loaded.0 != r0 {
                            if loaded.1 == r0 { rowA.update(from: rowB, count: outW) } else { interpolate(plane + r0 * width, into: rowA) }
                        }
                        if loaded.1 != r1 || loaded.0 != r0 { interpolate(plane + r1 * width, into: rowB) }
                        loaded = (r0, r1)
                        let h0 = down.w0[y], h1 = down.w1[y]
                        let out = target + y * outW
                        for x in 0..<outW { out[x] = rowA[x] * h0 + rowB[x] * h1 }
                    }
                }
            }
        }
    }
}
