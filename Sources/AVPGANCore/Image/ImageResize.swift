/// Separable resampling of an RGB8 image to a square float image, the arithmetic of torch's
/// `F.interpolate(mode="bilinear", align_corners=False, antialias=True)` (and of PIL's
/// bilinear resize): each output sample is a triangle-filter average of the input samples
/// around its half-pixel centre, the triangle widened by the shrink factor when shrinking
/// (so shrinking averages instead of skipping pixels) and plain bilinear when enlarging.
public enum ImageResize {
    /// The taps of one output sample: `weights` for input samples `first ..< first + weights.count`.
    struct Taps {
        let first: Int
        let weights: [Float]
    }

    /// The taps of every output sample of an axis resampled from `input` to `output` samples.
    static func taps(input: Int, output: Int) -> [Taps] {
        let scale = Double(input) / Double(output)
        let support = scale >= 1 ? scale : 1
        let inverse = scale >= 1 ? 1 / scale : 1
        return (0..<output).map { i in
            let centre = scale * (Double(i) + 0.5)
            let lo = max(Int(centre - support + 0.5), 0)
            let hi = min(Int(centre + support + 0.5), input)
            var w = (lo..<max(hi, lo + 1)).map { j in max(0, 1 - abs((Double(j) - centre + 0.5) * inverse)) }
            let total = w.reduce(0, +)
            if total > 0 { w = w.map { $0 / total } } else { w = [1] + Array(repeating: 0, count: w.count - 1) }
            return Taps(first: min(lo, input - 1), weights: w.map(Float.init))
        }
    }

    /// RGB8 `pixels[height, width, 3]` → planar `out[3, size, size]` holding
    /// `(resampled - mean) / std`, planes in `bgr` order when asked. `out` has `3 size²` floats;
    /// `scratch` at least `3 · height · size` floats (the horizontally resampled rows).
    public static func normalizedPlanes(_ pixels: UnsafePointer<UInt8>, width: Int, height: Int, size: Int,
                                        mean: Float, std: Float, bgr: Bool,
                                        scratch: UnsafeMutablePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        let plane = size * size
        let inverseStd = 1 / std
        if width == size && height == size {
            for p in 0..<plane {
                for c in 0..<3 { out[(bgr ? 2 - c : c) * plane + p] = (Float(pixels[3 * p + c]) - mean) * inverseStd }
            }
            return
        }
        let across = taps(input: width, output: size)
        let down = taps(input: height, output: size)
        // Horizontal pass: scratch[c, y, x] over every input row.
        for y in 0..<height {
            let row = pixels + 3 * y * width
            for (x, t) in across.enumerated() {
                var acc: (Float, Float, Float) = (0, 0, 0)
                for (k, w) in t.weights.enumerated() {
                    let p = row + 3 * (t.first + k)
                    acc.0 += w * Float(p[0]); acc.1 += w * Float(p[1]); acc.2 += w * Float(p[2])
                }
                scratch[y * size + x] = acc.0
                scratch[(height + y) * size + x] = acc.1
                scratch[(2 * height + y) * size + x] = acc.2
            }
        }
        // Vertical pass, then normalisation.
        for c in 0..<3 {
            let src = scratch + c * height * size
            let dst = out + (bgr ? 2 - c : c) * plane
            for (y, t) in down.enumerated() {
                let d = dst + y * size
                for x in 0..<size { d[x] = 0 }
                for (k, w) in t.weights.enumerated() {
                    let s = src + (t.first + k) * size
                    for x in 0..<size { d[x] += w * s[x] }
                }
                for x in 0..<size { d[x] = (d[x] - mean) * inverseStd }
            }
        }
    }
}
