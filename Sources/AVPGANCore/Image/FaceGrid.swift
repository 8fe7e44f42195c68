/// A contact sheet of faces: planar `[3, S, S]` floats (generator range, [-1, 1]) laid out
/// row by row, `columns` per row, with a `gap`-pixel white border, as one RGB8 image.
public enum FaceGrid {
    /// RGB8 `[height, width, 3]` of `faces[count, 3, size, size]` and its width and height.
    public static func compose(_ faces: [Float], count: Int, size: Int, columns: Int, gap: Int = 2,
                               pixels: PixelMapping = .clamp) throws -> (pixels: [UInt8], width: Int, height: Int) {
        let floats = 3 * size * size
        guard count >= 1, columns >= 1, size >= 1, gap >= 0, faces.count == count * floats else {
            throw AVPGANError.invalid("a face grid needs count >= 1 faces of 3x\(size)x\(size) values and columns >= 1")
        }
        let cols = min(columns, count), rows = (count + cols - 1) / cols
        let width = cols * size + (cols + 1) * gap, height = rows * size + (rows + 1) * gap
        var out = [UInt8](repeating: 255, count: width * height * 3)
        var tile = [UInt8](repeating: 0, count: floats)
        for i in 0..<count {
            faces.withUnsafeBufferPointer { pixels.apply($0.baseAddress! + i * floats, size: size, into: &tile) }
            let x0 = gap + (i % cols) * (size + gap), y0 = gap + (i / cols) * (size + gap)
            for y in 0..<size {
                let dst = ((y0 + y) * width + x0) * 3
                out.replaceSubrange(dst..<(dst + size * 3), with: tile[(y * size * 3)..<((y + 1) * size * 3)])
            }
        }
        return (out, width, height)
    }

    /// The grid as PNG bytes.
    public static func png(_ faces: [Float], count: Int, size: Int, columns: Int, text: [(String, String)] = []) throws -> [UInt8] {
        let (rgb, w, h) = try compose(faces, count: count, size: size, columns: columns)
        return try rgb.withUnsafeBufferPointer { try PNGCodec.encodeRGB8($0.baseAddress!, width: w, height: h, text: text) }
    }
}
