/// Procedural 64x64 faces whose attributes follow a `SyntheticSpeaker`'s voice (see there),
/// with per-image jitter (position, scale, lighting, expression) so that an identity has
/// several distinct pictures. Drawn with anti-aliased ellipses into 8-bit RGB.
public enum SyntheticFace {
    public static let size = 64

    /// `size x size x 3` RGB8 for `speaker`'s picture number `index`.
    public static func draw(_ speaker: SyntheticSpeaker, index: Int) -> [UInt8] {
        var rng = SplitMix(seed: UInt64(truncatingIfNeeded: speaker.id.hashValueStable) &+ UInt64(index) &* 7919)
        let n = size
        var img = [Float](repeating: 0, count: n * n * 3)
        // Background: a soft grey-blue gradient, mildly jittered per picture (a strong random
        // background would outweigh the identity in pixel space and make the data needlessly hard).
        let bg = (0.70 + 0.08 * rng.unit(), 0.72 + 0.08 * rng.unit(), 0.78 + 0.08 * rng.unit())
        for y in 0..<n { for x in 0..<n {
            let g = 0.85 + 0.15 * Float(y) / Float(n)
            img[(y * n + x) * 3] = bg.0 * g; img[(y * n + x) * 3 + 1] = bg.1 * g; img[(y * n + x) * 3 + 2] = bg.2 * g
        } }
        // Attributes from the voice.
        let pitch = Float(speaker.pitch) / 99            // 0...1
        let rate = Float(speaker.rate - 120) / 80        // 0...1
        let skinByLanguage: [String: (Float, Float, Float)] = [
            "en-us": (0.96, 0.80, 0.69), "de": (0.99, 0.86, 0.76), "fr": (0.89, 0.72, 0.58),
            "es": (0.78, 0.58, 0.42), "it": (0.58, 0.40, 0.28),
        ]
        let skin = skinByLanguage[speaker.language] ?? (0.9, 0.75, 0.6)
        let faceWidth = 13 + 5 * pitch + (speaker.isFemale ? -1 : 1.5)
        let faceHeight = 18 + 3 * (1 - pitch)
        let hairLength = speaker.isFemale ? 14 + 8 * pitch : 3 + 4 * pitch
        let hairColour: (Float, Float, Float) = pitch > 0.55 ? (0.85, 0.7, 0.35) : (pitch > 0.3 ? (0.45, 0.28, 0.15) : (0.12, 0.1, 0.08))
        let eyeRadius = 1.6 + 1.6 * rate
        let eyeSpacing = 5 + 3 * rate
        // Jitter per picture.
        let cx = 32 + 1.0 * (rng.unit() - 0.5), cy = 33 + 1.0 * (rng.unit() - 0.5)
        let scale = 0.98 + 0.04 * rng.unit()
        let light = 0.94 + 0.12 * rng.unit()
        let smile = rng.unit()

        func ellipse(_ ex: Float, _ ey: Float, _ rx: Float, _ ry: Float, _ colour: (Float, Float, Float), alpha: Float = 1) {
            let x0 = max(0, Int(ex - rx - 1)), x1 = min(n - 1, Int(ex + rx + 1))
            let y0 = max(0, Int(ey - ry - 1)), y1 = min(n - 1, Int(ey + ry + 1))
            guard x0 <= x1, y0 <= y1 else { return }
            for y in y0...y1 { for x in x0...x1 {
                let dx = (Float(x) + 0.5 - ex) / rx, dy = (Float(y) + 0.5 - ey) / ry
                let d = (dx * dx + dy * dy).squareRoot()
                let cover = min(max((1 - d) * min(rx, ry) + 0.5, 0), 1) * alpha
                guard cover > 0 else { continue }
                let i = (y * n + x) * 3
                img[i] += (colour.0 - img[i]) * cover
                img[i + 1] += (colour.1 - img[i + 1]) * cover
                img[i + 2] += (colour.2 - img[i + 2]) * cover
            } }
        }
        let s = scale
        // Hair behind the face (long hair falls below the face outline).
        ellipse(cx, cy - 4 * s + hairLength * 0.3 * s, (faceWidth + 3) * s, (faceHeight * 0.6 + hairLength * 0.7) * s, hairColour)
        ellipse(cx, cy, faceWidth * s, faceHeight * s, (skin.0 * light, skin.1 * light, skin.2 * light))
        // Fringe.
        ellipse(cx, cy - faceHeight * 0.8 * s, faceWidth * 0.95 * s, 5 * s, hairColour)
        // Eyes: whites, irises.
        for side in [Float(-1), 1] {
            let ex = cx + side * eyeSpacing * s, ey = cy - 3 * s
            ellipse(ex, ey, (eyeRadius + 1.2) * s, (eyeRadius * 0.7 + 0.8) * s, (0.97, 0.97, 0.97))
            ellipse(ex, ey, eyeRadius * 0.75 * s, eyeRadius * 0.75 * s, (0.15, 0.25 + 0.4 * rate, 0.35))
        }
        // Nose and mouth (a smile widens the mouth).
        ellipse(cx, cy + 3 * s, 1.2 * s, 2.2 * s, (skin.0 * 0.8 * light, skin.1 * 0.7 * light, skin.2 * 0.7 * light))
        ellipse(cx, cy + 9 * s, (4 + 2 * smile) * s, (1.2 + 0.6 * smile) * s, (0.65, 0.25, 0.25))
        return img.map { UInt8(min(max($0 * 255 + 0.5, 0), 255)) }
    }
}
