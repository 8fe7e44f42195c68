/// Bicubic resizing of planar images `[C, H, W]` to any size, as torch's
/// `F.interpolate(mode="bicubic", align_corners=False)` computes it (and OpenCV's INTER_CUBIC
/// when enlarging): Keys' cubic convolution with a = −0.75 over the four input samples around
/// `(d + 0.5) · in / out − 0.5`, indices clamped to the picture, no antialiasing, values not
/// clamped (the cubic overshoots edges). The baseline the enhancer must beat (issue 17).
public enum BicubicResize {
    static let a: Float = -0.75

    /// The four taps and weights of every output sample along one axis.
    struct Axis {
        var index: [Int] = []
        var weight: [Float] = []

        init(input: Int, output: Int) {
            let scale = Float(input) / Float(output)
            for d in 0..<output {
                let real = scale * (Float(d) + 0.5) - 0.5
                let base = real.rounded(.down), t = real - base
                let w = [Self.cubic2(t + 1), Self.cubic1(t), Self.cubic1(1 - t), Self.cubic2(2 - t)]
                for k in 0..<4 {
                    index.append(min(max(Int(base) - 1 + k, 0), input - 1))
                    weight.append(w[k])
                }
            }
        }

        /// |x| ≤ 1 and 1 < |x| < 2 pieces of the kernel.
        static func cubic1(_ x: Float) -> Float { ((a + 2) * x - (a + 3)) * x * x + 1 }
        static func cubic2(_ x: Float) -> Float { ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
    }

    /// `[C, outHeight, outWidth]` from `image[C, height, width]`.
    public static func resize(_ image: [Float], channels: Int, height: Int, width: Int, outHeight: Int, outWidth: Int) throws -> [Float] {
        guard channels > 0, height > 0, width > 0, outHeight > 0, outWidth > 0, image.count == channels * height * width else {
            throw AVPGANError.invalid("bicubic resize of \(image.count) floats as \(channels) x \(height) x \(width) to \(outHeight) x \(outWidth)")
        }
        let across = Axis(input: width, output: outWidth), down = Axis(input: height, output: outHeight)
        var rows = [Float](repeating: 0, count: height * outWidth)
        var out = [Float](repeating: 0, count: channels * outHeight * outWidth)
        for c in 0..<channels {
            let plane = c * height * width
            for y in 0..<height {
                for x in 0..<outWidth {
                    var v: Float = 0
                    for k in 0..<4 { v += image[plane + y * width + across.index[4 * x + k]] * across.weight[4 * x + k] }
                    rows[y * outWidth + x] = v
                }
            }
            for y in 0..<outHeight {
                let target = c * outHeight * outWidth + y * outWidth
                for x in 0..<outWidth { out[target + x] = 0 }
                for k in 0..<4 {
                    let source = down.index[4 * y + k] * outWidth, w = down.weight[4 * y + k]
                    for x in 0..<outWidth { out[target + x] += rows[source + x] * w }
                }
            }
        }
        return out
    }
}
