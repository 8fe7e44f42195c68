/// Procedural faces whose attributes follow a `SyntheticSpeaker`'s voice (see there), with
/// per-image jitter (position, scale, lighting, expression) so that an identity has several
/// distinct pictures. Drawn with anti-aliased ellipses into 8-bit RGB.
///
/// The geometry is defined on the 64 px face (`baseSize`); a larger `size` draws the same face
/// scaled, its edges still one pixel wide, plus fine detail a 64 px picture cannot hold (pupils,
/// iris rims and highlights, eyebrows, nostrils, lip line, skin shading: `SyntheticFace+Details`),
/// for an enhancer to restore. The 64 px faces are exactly those drawn before larger sizes
/// existed (the committed data and fixtures depend on them).
public enum SyntheticFace {
    /// The size of the generator's faces and of `draw(_:index:)`.
    public static let baseSize = 64
    /// The sizes `draw(_:index:size:)` takes.
    public static let sizes = [64, 128, 256, 512]

    /// `64 x 64 x 3` RGB8 for `speaker`'s picture number `index`.
    public static func draw(_ speaker: SyntheticSpeaker, index: Int) -> [UInt8] {
        render(speaker, index: index, size: baseSize)
    }

    /// `size x size x 3` RGB8 for `speaker`'s picture number `index`; `size` one of `sizes`.
    public static func draw(_ speaker: SyntheticSpeaker, index: Int, size: Int) throws -> [UInt8] {
        guard sizes.contains(size) else {
            throw AVPGANError.invalid("synthetic face size \(size) is not one of \(sizes.map(String.init).joined(separator: ", "))")
        }
        return render(speaker, index: index, size: size)
    }

    /// The attributes of one picture, in 64 px units, that the details reuse.
    struct Layout {
        var cx: Float, cy: Float, scale: Float, light: Float, smile: Float
        var faceWidth: Float, faceHeight: Float, eyeRadius: Float, eyeSpacing: Float
        var skin: (Float, Float, Float), hairColour: (Float, Float, Float), iris: (Float, Float, Float)
        var rate: Float
    }

    static func render(_ speaker: SyntheticSpeaker, index: Int, size: Int) -> [UInt8] {
        var rng = SplitMix(seed: UInt64(truncatingIfNeeded: speaker.id.hashValueStable) &+ UInt64(index) &* 7919)
        var canvas = SyntheticFaceCanvas(size: size)
        let n = size
        // Background: a soft grey-blue gradient, mildly jittered per picture (a strong random
        // background would outweigh the identity in pixel space and make the data needlessly hard).
        let bg = (0.70 + 0.08 * rng.unit(), 0.72 + 0.08 * rng.unit(), 0.78 + 0.08 * rng.unit())
        for y in 0..<n { for x in 0..<n {
            let g = 0.85 + 0.15 * Float(y) / Float(n)
            canvas.pixels[(y * n + x) * 3] = bg.0 * g; canvas.pixels[(y * n + x) * 3 + 1] = bg.1 * g; canvas.pixels[(y * n + x) * 3 + 2] = bg.2 * g
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
        let iris: (Float, Float, Float) = (0.15, 0.25 + 0.4 * rate, 0.35)
        let layout = Layout(cx: cx, cy: cy, scale: scale, light: light, smile: smile, faceWidth: faceWidth, faceHeight: faceHeight,
                            eyeRadius: eyeRadius, eyeSpacing: eyeSpacing, skin: skin, hairColour: hairColour, iris: iris, rate: rate)
        let detailed = size > baseSize

        let s = scale
        // Hair behind the face (long hair falls below the face outline).
        canvas.ellipse(cx, cy - 4 * s + hairLength * 0.3 * s, (faceWidth + 3) * s, (faceHeight * 0.6 + hairLength * 0.7) * s, hairColour)
        canvas.ellipse(cx, cy, faceWidth * s, faceHeight * s, (skin.0 * light, skin.1 * light, skin.2 * light))
        if detailed { drawSkinShading(layout, on: &canvas) }
        // Fringe.
        canvas.ellipse(cx, cy - faceHeight * 0.8 * s, faceWidth * 0.95 * s, 5 * s, hairColour)
        if detailed { drawEyebrows(layout, on: &canvas) }
        // Eyes: whites, irises.
        for side in [Float(-1), 1] {
            let ex = cx + side * eyeSpacing * s, ey = cy - 3 * s
            canvas.ellipse(ex, ey, (eyeRadius + 1.2) * s, (eyeRadius * 0.7 + 0.8) * s, (0.97, 0.97, 0.97))
            canvas.ellipse(ex, ey, eyeRadius * 0.75 * s, eyeRadius * 0.75 * s, iris)
            if detailed { drawEyeDetail(layout, x: ex, y: ey, on: &canvas) }
        }
        // Nose and mouth (a smile widens the mouth).
        canvas.ellipse(cx, cy + 3 * s, 1.2 * s, 2.2 * s, (skin.0 * 0.8 * light, skin.1 * 0.7 * light, skin.2 * 0.7 * light))
        if detailed { drawNostrils(layout, on: &canvas) }
        canvas.ellipse(cx, cy + 9 * s, (4 + 2 * smile) * s, (1.2 + 0.6 * smile) * s, (0.65, 0.25, 0.25))
        if detailed { drawLips(layout, on: &canvas) }
        return canvas.rgb8
    }
}
