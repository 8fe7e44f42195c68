#if canImport(Glibc)
import Glibc
#endif

/// The float RGB canvas a `SyntheticFace` is painted on: `size x size x 3` values in [0, 1],
/// shapes given in the 64 px face's units (a pixel of the 64 px face is `scale = size / 64`
/// pixels here) and drawn in the canvas's own pixels, so edges are one pixel wide at every
/// size. At `size` 64 `ellipse` does exactly the arithmetic the 64 px faces were made with.
struct SyntheticFaceCanvas {
    let size: Int
    /// Canvas pixels per pixel of the 64 px face.
    let scale: Float
    var pixels: [Float]

    init(size: Int) {
        self.size = size
        scale = Float(size) / Float(SyntheticFace.baseSize)
        pixels = [Float](repeating: 0, count: size * size * 3)
    }

    /// Blends `colour` into pixel `(x, y)` with weight `cover` (0...1).
    @inline(__always) mutating func blend(_ x: Int, _ y: Int, _ colour: (Float, Float, Float), _ cover: Float) {
        let i = (y * size + x) * 3
        pixels[i] += (colour.0 - pixels[i]) * cover
        pixels[i + 1] += (colour.1 - pixels[i + 1]) * cover
        pixels[i + 2] += (colour.2 - pixels[i + 2]) * cover
    }

    /// An axis-aligned ellipse centred at `(ex, ey)` with radii `rx`, `ry` (64 px units), its
    /// edge anti-aliased over one canvas pixel, painted with opacity `alpha`.
    mutating func ellipse(_ ex: Float, _ ey: Float, _ rx: Float, _ ry: Float, _ colour: (Float, Float, Float), alpha: Float = 1) {
        let (ex, ey, rx, ry) = (ex * scale, ey * scale, rx * scale, ry * scale)
        let n = size
        let x0 = max(0, Int(ex - rx - 1)), x1 = min(n - 1, Int(ex + rx + 1))
        let y0 = max(0, Int(ey - ry - 1)), y1 = min(n - 1, Int(ey + ry + 1))
        guard x0 <= x1, y0 <= y1 else { return }
        for y in y0...y1 { for x in x0...x1 {
            let dx = (Float(x) + 0.5 - ex) / rx, dy = (Float(y) + 0.5 - ey) / ry
            let d = (dx * dx + dy * dy).squareRoot()
            let cover = min(max((1 - d) * min(rx, ry) + 0.5, 0), 1) * alpha
            guard cover > 0 else { continue }
            blend(x, y, colour, cover)
        } }
    }

    /// An ellipse turned by `angle` radians (clockwise on screen, y pointing down), with a hard
    /// anti-aliased edge (`soft` false) or an opacity falling smoothly from `alpha` at the
    /// centre to 0 at the edge (`soft` true, `(1 - d²)²`). When `clip` is given, only its inside
    /// is painted (its own anti-aliased coverage multiplies the shape's).
    mutating func shape(_ ex: Float, _ ey: Float, _ rx: Float, _ ry: Float, angle: Float = 0, _ colour: (Float, Float, Float),
                        alpha: Float = 1, soft: Bool = false, clip: (x: Float, y: Float, rx: Float, ry: Float)? = nil) {
        let (ex, ey, rx, ry) = (ex * scale, ey * scale, rx * scale, ry * scale)
        let reach = max(rx, ry) + 1
        let x0 = max(0, Int(ex - reach)), x1 = min(size - 1, Int(ex + reach))
        let y0 = max(0, Int(ey - reach)), y1 = min(size - 1, Int(ey + reach))
        guard x0 <= x1, y0 <= y1, rx > 0, ry > 0 else { return }
        let c = Float(cos(Double(angle))), s = Float(sin(Double(angle)))
        let limit = clip.map { ($0.x * scale, $0.y * scale, $0.rx * scale, $0.ry * scale) }
        for y in y0...y1 { for x in x0...x1 {
            let px = Float(x) + 0.5 - ex, py = Float(y) + 0.5 - ey
            let u = (px * c + py * s) / rx, v = (py * c - px * s) / ry
            let d2 = u * u + v * v
            var cover: Float
            if soft {
                guard d2 < 1 else { continue }
                cover = (1 - d2) * (1 - d2) * alpha
            } else {
                cover = min(max((1 - d2.squareRoot()) * min(rx, ry) + 0.5, 0), 1) * alpha
            }
            if let (cx, cy, crx, cry) = limit {
                let dx = (Float(x) + 0.5 - cx) / crx, dy = (Float(y) + 0.5 - cy) / cry
                cover *= min(max((1 - (dx * dx + dy * dy).squareRoot()) * min(crx, cry) + 0.5, 0), 1)
            }
            guard cover > 0 else { continue }
            blend(x, y, colour, cover)
        } }
    }

    /// The canvas as RGB8, each value rounded half up and clamped.
    var rgb8: [UInt8] { pixels.map { UInt8(min(max($0 * 255 + 0.5, 0), 255)) } }
}
