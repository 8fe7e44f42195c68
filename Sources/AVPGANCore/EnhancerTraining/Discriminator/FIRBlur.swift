/// StyleGAN2's blur before a stride-2 convolution (basicsr's `UpFirDnSmooth` for
/// downsampling, `upfirdn2d` with up = down = 1): the 4 x 4 FIR `[1, 3, 3, 1]ᵀ [1, 3, 3, 1] / 64`
/// (its taps exact in Float) over each plane zero-padded by `pad.before` rows and columns
/// before and `pad.after` after, so a side `s` becomes `s + before + after − 3`. Planes are
/// independent (a CNHW map of C channels and N images is C·N planes), each computed whole by
/// one thread, so results do not depend on the thread count.
enum FIRBlur {
    static let taps: [Float] = [1, 3, 3, 1].map { Float($0) / 8 }

    static func outputSide(_ side: Int, pad: (before: Int, after: Int)) -> Int { side + pad.before + pad.after - 3 }

    /// `y[planes, out, out]` (OVERWRITTEN) from `x[planes, side, side]`.
    static func forward(_ x: UnsafePointer<Float>, planes: Int, side: Int, pad: (before: Int, after: Int),
                        into y: UnsafeMutablePointer<Float>) {
        let out = outputSide(side, pad: pad), p0 = pad.before
        parallelFor(planes, costPerItem: 32 * out * out) { plane in
            let src = x + plane * side * side, dst = y + plane * out * out
            dst.update(repeating: 0, count: out * out)
            for i in 0..<out {
                let row = dst + i * out
                for a in 0..<4 {
                    let r = i + a - p0
                    guard r >= 0, r < side else { continue }
                    for b in 0..<4 {
                        // Output columns j whose input column j + b − p0 lies inside.
                        let lo = max(0, p0 - b), hi = min(out, side + p0 - b)
                        guard lo < hi else { continue }
                        let k = taps[a] * taps[b], from = src + r * side + (b - p0)
                        for j in lo..<hi { row[j] += k * from[j] }
                    }
                }
            }
        }
    }

    /// Reverse mode: `dx[planes, side, side]` (OVERWRITTEN) from `dy[planes, out, out]`, each
    /// output's gradient sent back to the 16 inputs it read with the same weights.
    static func backward(_ dy: UnsafePointer<Float>, planes: Int, side: Int, pad: (before: Int, after: Int),
                         into dx: UnsafeMutablePointer<Float>) {
        let out = outputSide(side, pad: pad), p0 = pad.before
        parallelFor(planes, costPerItem: 32 * out * out) { plane in
            let src = dy + plane * out * out, dst = dx + plane * side * side
            dst.update(repeating: 0, count: side * side)
            for i in 0..<out {
                let row = src + i * out
                for a in 0..<4 {
                    let r = i + a - p0
                    guard r >= 0, r < side else { continue }
                    for b in 0..<4 {
                        let lo = max(0, p0 - b), hi = min(out, side + p0 - b)
                        guard lo < hi else { continue }
                        let k = taps[a] * taps[b], to = dst + r * side + (b - p0)
                        for j in lo..<hi { to[j] += k * row[j] }
                    }
                }
            }
        }
    }
}
