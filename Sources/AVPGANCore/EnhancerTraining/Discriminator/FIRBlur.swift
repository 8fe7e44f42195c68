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
        let out = outputSide(side, pad: pad)
        parallelFor(planes, costPerItem: 32 * out * out) { plane in
            let src = x + plane * side * side, dst = y + plane * out * out
            dst.update(repeating: 0, count: out * out)
            forEachTap(side: side, out: out, before: pad.before) { i, r, shift, columns, k in
                let row = dst + i * out, from = src + r * side + shift
                for j in columns { row[j] += k * from[j] }
            }
        }
    }

    /// Reverse mode: `dx[planes, side, side]` (OVERWRITTEN) from `dy[planes, out, out]`, each
    /// output's gradient sent back to the 16 inputs it read with the same weights.
    static func backward(_ dy: UnsafePointer<Float>, planes: Int, side: Int, pad: (before: Int, after: Int),
                         into dx: UnsafeMutablePointer<Float>) {
        let out = outputSide(side, pad: pad)
        parallelFor(planes, costPerItem: 32 * out * out) { plane in
            let src = dy + plane * out * out, dst = dx + plane * side * side
            dst.update(repeating: 0, count: side * side)
            forEachTap(side: side, out: out, before: pad.before) { i, r, shift, columns, k in
                let row = src + i * out, to = dst + r * side + shift
                for j in columns { to[j] += k * row[j] }
            }
        }
    }

    /// The blur's reads of one plane, in the order both passes accumulate them: for output row
    /// `i` and tap `(a, b)` whose input row `r = i + a − before` lies inside, `body(i, r, shift,
    /// columns, weight)` pairs output column `j` with input column `j + shift` for `j` in
    /// `columns` (those whose input column lies inside), weighted `taps[a] · taps[b]`.
    @inline(__always)
    private static func forEachTap(side: Int, out: Int, before p0: Int,
                                   _ body: (_ i: Int, _ r: Int, _ shift: Int, _ columns: Range<Int>, _ weight: Float) -> Void) {
        for i in 0..<out {
            for a in 0..<4 {
                let r = i + a - p0
                guard r >= 0, r < side else { continue }
                for b in 0..<4 {
                    let lo = max(0, p0 - b), hi = min(out, side + p0 - b)
                    guard lo < hi else { continue }
                    body(i, r, b - p0, lo..<hi, taps[a] * taps[b])
                }
            }
        }
    }
}
