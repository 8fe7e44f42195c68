/// A 2-D correlation of planar images `[C, H, W]` with one odd `k x k` kernel, the borders
/// mirrored without repeating the edge (`gfedcb|abcdefgh|gfedcba`, OpenCV's default
/// BORDER_REFLECT_101, which basicsr's `cv2.filter2D` blur uses).
///
/// Each output row is the sum over the kernel's taps of a shifted row of the padded image
/// times the tap, a vectorised multiply-add along the row, the taps in a fixed order: one
/// output row is computed whole by one thread, so the result is the same at any thread count.
enum ImageFilter {
    /// The mirrored index of `i` in `0 ..< n`.
    static func reflect101(_ i: Int, _ n: Int) -> Int {
        guard n > 1 else { return 0 }
        var i = i
        while i < 0 || i >= n { i = i < 0 ? -i : 2 * n - 2 - i }
        return i
    }

    /// Floats of scratch `filter` takes: one padded plane.
    static func scratchCount(height: Int, width: Int, kernel k: Int) -> Int { (height + k - 1) * (width + k - 1) }

    /// `dst[C, H, W]` (must not alias `src`) from `src[C, H, W]` and `kernel[k, k]`.
    static func filter(_ src: UnsafePointer<Float>, channels: Int, height: Int, width: Int, kernel: [Float], size k: Int,
                       into dst: UnsafeMutablePointer<Float>, scratch padded: UnsafeMutablePointer<Float>) {
        precondition(k % 2 == 1 && kernel.count == k * k)
        let pad = k / 2, paddedWidth = width + 2 * pad
        let columns = (0..<paddedWidth).map { reflect101($0 - pad, width) }
        kernel.withUnsafeBufferPointer { taps in
            for c in 0..<channels {
                let plane = src + c * height * width, out = dst + c * height * width
                for r in 0..<(height + 2 * pad) {
                    let from = plane + reflect101(r - pad, height) * width, to = padded + r * paddedWidth
                    for x in 0..<paddedWidth { to[x] = from[columns[x]] }
                }
                parallelBlocks(height, costPerItem: 2 * k * k * width) { rows in
                    for y in rows {
                        let row = out + y * width
                        row.update(repeating: 0, count: width)
                        for i in 0..<k {
                            let source = padded + (y + i) * paddedWidth
                            for j in 0..<k {
                                let t = taps[i * k + j], shifted = source + j
                                for x in 0..<width { row[x] += t * shifted[x] }
                            }
                        }
                    }
                }
            }
        }
    }
}
