/// The fine detail of the faces drawn above 64 px: features thinner than a pixel of the 64 px
/// face (under a 64 px picture's pixel they vanish or blur into their surroundings), so the
/// detail a degraded input loses and an enhancer should restore. All of it follows the
/// picture's layout (geometry, lighting, expression), none of it draws random numbers.
extension SyntheticFace {
    /// Skin shading inside the face outline: shadowed sides, a lit forehead and rosy cheeks.
    static func drawSkinShading(_ f: Layout, on canvas: inout SyntheticFaceCanvas) {
        let s = f.scale
        let face = (x: f.cx, y: f.cy, rx: f.faceWidth * s, ry: f.faceHeight * s)
        let shadow = (f.skin.0 * 0.72 * f.light, f.skin.1 * 0.62 * f.light, f.skin.2 * 0.6 * f.light)
        for side in [Float(-1), 1] {
            canvas.shape(f.cx + side * f.faceWidth * 0.95 * s, f.cy + 2 * s, f.faceWidth * 0.45 * s, f.faceHeight * 0.95 * s,
                         shadow, alpha: 0.55, soft: true, clip: face)
            canvas.shape(f.cx + side * f.faceWidth * 0.5 * s, f.cy + 4 * s, 3.2 * s, 2.4 * s, (0.92, 0.45, 0.45),
                         alpha: 0.3, soft: true, clip: face)
        }
        let lit = (min(1, f.skin.0 * 1.12 * f.light), min(1, f.skin.1 * 1.12 * f.light), min(1, f.skin.2 * 1.12 * f.light))
        canvas.shape(f.cx, f.cy - f.faceHeight * 0.45 * s, f.faceWidth * 0.55 * s, 4 * s, lit, alpha: 0.45, soft: true, clip: face)
    }

    /// Eyebrows: thin, slightly tilted strokes of a darker hair colour above each eye (their
    /// tilt and thickness follow the speaking rate).
    static func drawEyebrows(_ f: Layout, on canvas: inout SyntheticFaceCanvas) {
        let s = f.scale
        let colour = (f.hairColour.0 * 0.7, f.hairColour.1 * 0.7, f.hairColour.2 * 0.7)
        for side in [Float(-1), 1] {
            let x = f.cx + side * (f.eyeSpacing + 0.3) * s
            let y = f.cy - 3 * s - (f.eyeRadius * 0.7 + 0.8) * s - 1.6 * s
            canvas.shape(x, y, (f.eyeRadius + 1.6) * s, (0.35 + 0.2 * f.rate) * s, angle: -side * (0.08 + 0.1 * f.rate), colour)
        }
    }

    /// Inside an eye centred at `(x, y)`: a darker rim round the iris, the pupil and a catch
    /// light up and to the left.
    static func drawEyeDetail(_ f: Layout, x: Float, y: Float, on canvas: inout SyntheticFaceCanvas) {
        let s = f.scale, r = f.eyeRadius * 0.75 * s
        canvas.shape(x, y, r, r, (f.iris.0 * 0.5, f.iris.1 * 0.5, f.iris.2 * 0.5))
        canvas.shape(x, y, r * 0.8, r * 0.8, f.iris)
        canvas.shape(x, y, r * 0.42, r * 0.42, (0.03, 0.03, 0.04))
        canvas.shape(x - r * 0.35, y - r * 0.35, r * 0.2, r * 0.2, (1, 1, 1), alpha: 0.95)
        // The upper eyelid's line along the top of the eye white.
        let top = y - (f.eyeRadius * 0.7 + 0.8) * s * 0.92
        canvas.shape(x, top, (f.eyeRadius + 1.2) * s * 0.85, 0.22 * s, (f.skin.0 * 0.35, f.skin.1 * 0.28, f.skin.2 * 0.28), alpha: 0.9)
    }

    /// Two nostrils at the foot of the nose.
    static func drawNostrils(_ f: Layout, on canvas: inout SyntheticFaceCanvas) {
        let s = f.scale
        for side in [Float(-1), 1] {
            canvas.shape(f.cx + side * 0.75 * s, f.cy + 4.6 * s, 0.5 * s, 0.3 * s, angle: side * 0.4,
                         (f.skin.0 * 0.35 * f.light, f.skin.1 * 0.25 * f.light, f.skin.2 * 0.25 * f.light))
        }
    }

    /// The line between the lips (curving with the smile's width) and a light on the lower lip.
    static func drawLips(_ f: Layout, on canvas: inout SyntheticFaceCanvas) {
        let s = f.scale
        let width = (4 + 2 * f.smile) * s, height = (1.2 + 0.6 * f.smile) * s
        let mouth = (x: f.cx, y: f.cy + 9 * s, rx: width, ry: height)
        canvas.shape(f.cx, f.cy + 9 * s - height * 0.1, width * 0.92, 0.2 * s, (0.32, 0.08, 0.1), clip: mouth)
        canvas.shape(f.cx, f.cy + 9 * s + height * 0.5, width * 0.45, height * 0.3, (0.85, 0.5, 0.5), alpha: 0.5, soft: true, clip: mouth)
    }
}
