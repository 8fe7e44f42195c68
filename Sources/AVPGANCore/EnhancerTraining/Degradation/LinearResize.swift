/// Bilinear resizing of planar images `[C, H, W]` to any size, without antialiasing, with
/// half-pixel centres and the edge sample repeated: OpenCV's `cv2.resize(INTER_LINEAR)`, which
/// GFPGAN's degradation uses both to shrink and to enlarge back. Output sample d reads the
/// input at `(d + 0.5) · in / out − 0.5` (clamped at 0), the same taps as `Bilinear.Axis`.
enum LinearResize {
    /// Floats of scratch `resize` takes: one horizontally resampled plane.
    static func scratchCount(height: Int, outWidth: Int) -> Int { height * outWidth }

    /// `dst[C, outHeight, outWidth]` from `src[C, height, width]`; `dst` must not alias `src`.
    static func resize(_ src: UnsafePointer<Float>, channels: Int, height: Int, width: Int, outHeight: Int, outWidth: Int,
                       into dst: UnsafeMutablePointer<Float>, scratch rows: UnsafeMutablePointer<Float>) {
        let across = Bilinear.Axis(input: width, output: outWidth, ratio: Float(Double(width) / Double(outWidth)))
        let down = Bilinear.Axis(input: height, output: outHeight, ratio: Float(Double(height) / Double(outHeight)))
        for c in 0..<channels {
            let plane = src + c * height * width, out = dst + c * outHeight * outWidth
            for y in 0..<height {
                let from = plane + y * width, to = rows + y * outWidth
                for x in 0..<outWidth { to[x] = from[across.first[x]] * across.w0[x] + from[across.second[x]] * across.w1[x] }
            }
            for y in 0..<outHeight {
                let top = rows + down.first[y] * outWidth, bottom = rows + down.second[y] * outWidth
                let h0 = down.w0[y], h1 = down.w1[y], to = out + y * outWidth
                for x in 0..<outWidth { to[x] = top[x] * h0 + bottom[x] * h1 }
            }
        }
    }
}
