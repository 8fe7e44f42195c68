// Image/: pictures in and out. `PNGCodec` (here) writes and reads 8-bit RGB PNG through libpng,
// `PNGText` the text chunks that carry a portrait's provenance, `JPEGCodec` decodes JPEG training faces
// through libturbojpeg, `ImageResize` resizes, and `FaceGrid` tiles faces into one picture.

import CPNG

/// PNG encoding of 8-bit RGB images through libpng's simplified API (which reports errors
/// by return value, so no longjmp crosses Swift frames).
public enum PNGCodec {
    /// Encodes `pixels[height, width, 3]` (interleaved RGB, rows top to bottom) as PNG bytes,
    /// with `text` as iTXt chunks. The same input gives the same bytes (no timestamps).
    public static func encodeRGB8(_ pixels: UnsafePointer<UInt8>, width: Int, height: Int,
                                  text: [(String, String)] = []) throws -> [UInt8] {
        guard width > 0, height > 0, width <= 1 << 20, height <= 1 << 20 else {
            throw AVPGANError.invalid("image size \(width)x\(height) is not encodable")
        }
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(width)
        image.height = UInt32(height)
        image.format = UInt32(PNG_FORMAT_RGB)
        var size: png_alloc_size_t = 0
        // First call measures, second writes.
        guard png_image_write_to_memory(&image, nil, &size, 0, pixels, Int32(width * 3), nil) != 0 else {
            throw AVPGANError(.internal, "libpng: \(message(&image))")
        }
        var out = [UInt8](repeating: 0, count: Int(size))
        let ok = out.withUnsafeMutableBytes { png_image_write_to_memory(&image, $0.baseAddress, &size, 0, pixels, Int32(width * 3), nil) }
        guard ok != 0 else { throw AVPGANError(.internal, "libpng: \(message(&image))") }
        png_image_free(&image)
        let encoded = Array(out.prefix(Int(size)))
        return text.isEmpty ? encoded : try PNGText.insert(text, into: encoded)
    }

    /// The largest image `decodeRGB8` accepts (a hostile header must not allocate gigabytes).
    public static let maxDecodePixels = 1 << 26

    /// Decodes any PNG (grey, palette, alpha, 16-bit: libpng converts) to 8-bit RGB
    /// `[height, width, 3]`, composited on black where it had alpha.
    public static func decodeRGB8(_ png: [UInt8]) throws -> (pixels: [UInt8], width: Int, height: Int) {
        // libpng reads from the memory given to begin_read until finish_read: one scope for both.
        try png.withUnsafeBytes { memory in
            var image = png_image()
            image.version = UInt32(PNG_IMAGE_VERSION)
            guard png_image_begin_read_from_memory(&image, memory.baseAddress, memory.count) != 0 else {
                throw AVPGANError.invalid("not a readable PNG: \(message(&image))")
            }
            let width = Int(image.width), height = Int(image.height)
            guard width > 0, height > 0, width * height <= maxDecodePixels else {
                png_image_free(&image)
                throw AVPGANError.invalid("PNG of \(width)x\(height) pixels is larger than the \(maxDecodePixels)-pixel limit")
            }
            image.format = UInt32(PNG_FORMAT_RGB)
            var pixels = [UInt8](repeating: 0, count: width * height * 3)
            let finished = pixels.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, Int32(width * 3), nil) }
            guard finished != 0 else {
                let why = message(&image)
                png_image_free(&image)
                throw AVPGANError.invalid("damaged PNG: \(why)")
            }
            return (pixels, width, height)
        }
    }

    private static func message(_ image: inout png_image) -> String {
        withUnsafeBytes(of: &image.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
