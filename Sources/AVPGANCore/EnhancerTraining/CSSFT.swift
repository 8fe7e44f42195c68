/// GFPGAN's channel-split spatial feature transform on one image `x[C, H W]`: channels from
/// `first` on (`C / 2` with `sft_half`, else 0) become `x · scale + shift`, with `scale` and
/// `shift` `[C − first, H W]` from the U-Net's condition branches; the others pass unchanged.
enum CSSFT {
    /// `y` (OVERWRITTEN; may be `x` itself) from `x`.
    static func forward(_ x: UnsafePointer<Float>, channels: Int, first: Int, plane: Int,
                        scale: UnsafePointer<Float>, shift: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>) {
        if UnsafePointer(y) != x { y.update(from: x, count: first * plane) }
        parallelBlocks((channels - first) * plane, costPerItem: 2) { range in
            let from = x + first * plane, to = y + first * plane
            for i in range { to[i] = from[i] * scale[i] + shift[i] }
        }
    }

    /// Reverse mode: from `dY[C, H W]` and the forward's input `x`, OVERWRITES `gradInput`
    /// (may be `dY` itself), `gradScale` and `gradShift` (`[C − first, H W]` each).
    static func backward(input x: UnsafePointer<Float>, channels: Int, first: Int, plane: Int, scale: UnsafePointer<Float>,
                         gradOutput dy: UnsafePointer<Float>, gradInput dx: UnsafeMutablePointer<Float>,
                         gradScale: UnsafeMutablePointer<Float>, gradShift: UnsafeMutablePointer<Float>) {
        if UnsafePointer(dx) != dy { dx.update(from: dy, count: first * plane) }
        parallelBlocks((channels - first) * plane, costPerItem: 4) { range in
            let g = dy + first * plane, input = x + first * plane, out = dx + first * plane
            for i in range {
                let d = g[i]
                gradShift[i] = d
                gradScale[i] = d * input[i]
                out[i] = d * scale[i]
            }
        }
    }
}
