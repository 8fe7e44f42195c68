/// torch's `F.interpolate(x, size=(oh, ow), mode="bilinear", align_corners=False)` without
/// antialiasing (what GFPGAN's identity loss uses to shrink its faces), forward and backward,
/// on planes of `h x w` floats. Source coordinate of output index d: `(d + 0.5) · in/out - 0.5`,
/// clamped at 0; taps `floor` and `floor + 1` (clamped to the last index).
enum BilinearResize {
    /// The two taps and weights of each output index along one axis.
    static func taps(input: Int, output: Int) -> [(i0: Int, i1: Int, w0: Float, w1: Float)] {
        let scale = Float(input) / Float(output)
        return (0..<output).map { d in
            let src = max(scale * (Float(d) + 0.5) - 0.5, 0)
            let i0 = min(Int(src), input - 1)
            let i1 = min(i0 + 1, input - 1)
            let l1 = src - Float(i0)
            return (i0, i1, 1 - l1, l1)
        }
    }

    /// `out` (OVERWRITTEN, `planes x oh x ow`) from `x` (`planes x h x w`).
    static func forward(_ x: UnsafePointer<Float>, planes: Int, h: Int, w: Int, oh: Int, ow: Int, into out: UnsafeMutablePointer<Float>) {
        let ty = taps(input: h, output: oh), tx = taps(input: w, output: ow)
        parallelFor(planes, costPerItem: 8 * oh * ow) { p in
            let src = x + p * h * w, dst = out + p * oh * ow
            for (oy, y) in ty.enumerated() {
                let r0 = src + y.i0 * w, r1 = src + y.i1 * w
                for (ox, t) in tx.enumerated() {
                    dst[oy * ow + ox] = y.w0 * (t.w0 * r0[t.i0] + t.w1 * r0[t.i1]) + y.w1 * (t.w0 * r1[t.i0] + t.w1 * r1[t.i1])
                }
            }
        }
    }

    /// Reverse mode: `dx` (OVERWRITTEN, `planes x h x w`) from `dOut` (`planes x oh x ow`).
    static func backward(_ dOut: UnsafePointer<Float>, planes: Int, h: Int, w: Int, oh: Int, ow: Int, into dx: UnsafeMutablePointer<Float>) {
        let ty = taps(input: h, output: oh), tx = taps(input: w, output: ow)
        parallelFor(planes, costPerItem: 8 * oh * ow) { p in
            let dst = dx + p * h * w, g = dOut + p * oh * ow
            dst.update(repeating: 0, count: h * w)
            for (oy, y) in ty.enumerated() {
                let r0 = dst + y.i0 * w, r1 = dst + y.i1 * w
                for (ox, t) in tx.enumerated() {
                    let v = g[oy * ow + ox]
                    r0[t.i0] += y.w0 * t.w0 * v
                    r0[t.i1] += y.w0 * t.w1 * v
                    r1[t.i0] += y.w1 * t.w0 * v
                    r1[t.i1] += y.w1 * t.w1 * v
                }
            }
        }
    }
}
