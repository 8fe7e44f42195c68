/// Training faces: any PNG or JPEG, resized to `size x size` (bilinear, averaging over the source
/// pixels each target pixel covers when shrinking) and scaled to [-1, 1] as the reference's
/// `Normalize(0.5, 0.5)` does, planar `3 x size x size`.
public enum FaceImage {
    /// The side of the generator's face, and so of the faces training loads: 64 px.
    public static let trainingSize = 64

    public static func load(_ path: String, size: Int = trainingSize) throws -> [Float] {
        let image = try loadRGB8(path)
        return resize(image.pixels, width: image.width, height: image.height, to: size)
    }

    /// A PNG or JPEG file as RGB8 pixels at its own size.
    public static func loadRGB8(_ path: String) throws -> FaceModel.Image {
        let bytes = try FileIO.read(path)
        let isJPEG = bytes.count >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF
        do {
            let (pixels, w, h) = isJPEG ? try JPEGCodec.decodeRGB8(bytes) : try PNGCodec.decodeRGB8(bytes)
            return FaceModel.Image(pixels: pixels, width: w, height: h)
        } catch let e as AVPGANError {
            throw AVPGANError(e.kind, "'\(path)': \(e.message)")
        }
    }

    /// RGB8 `[h, w, 3]` -> planar `[3, size, size]` in [-1, 1]: each target pixel averages the
    /// source area it covers (box filter), which is bilinear-exact for equal sizes.
    public static func resize(_ pixels: [UInt8], width w: Int, height h: Int, to size: Int) -> [Float] {
        var out = [Float](repeating: 0, count: 3 * size * size)
        let sx = Float(w) / Float(size), sy = Float(h) / Float(size)
        for y in 0..<size {
            let y0 = Int(Float(y) * sy), y1 = max(y0 + 1, min(h, Int((Float(y + 1) * sy).rounded(.up))))
            for x in 0..<size {
                let x0 = Int(Float(x) * sx), x1 = max(x0 + 1, min(w, Int((Float(x + 1) * sx).rounded(.up))))
                var acc: (Float, Float, Float) = (0, 0, 0)
                for yy in y0..<min(y1, h) { for xx in x0..<min(x1, w) {
                    let i = (yy * w + xx) * 3
                    acc.0 += Float(pixels[i]); acc.1 += Float(pixels[i + 1]); acc.2 += Float(pixels[i + 2])
                } }
                let n = Float((min(y1, h) - y0) * (min(x1, w) - x0))
                let p = y * size + x
                out[p] = acc.0 / n / 127.5 - 1
                out[size * size + p] = acc.1 / n / 127.5 - 1
                out[2 * size * size + p] = acc.2 / n / 127.5 - 1
            }
        }
        return out
    }

    /// The mirror image of a planar `[3, size, size]` face.
    public static func flipped(_ face: [Float], size: Int = trainingSize) -> [Float] {
        var out = face
        for c in 0..<3 { for y in 0..<size { for x in 0..<size {
            out[(c * size + y) * size + x] = face[(c * size + y) * size + (size - 1 - x)]
        } } }
        return out
    }
}
