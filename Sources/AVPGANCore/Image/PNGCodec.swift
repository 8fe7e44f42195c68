import CPNG

/// PNG encoding of 8-bit RGB images through libpng's simplified API (which reports errors
/// by return value, so no longjmp crosses Swift frames).
public enum PNGCodec {
    /// Encodes `pixels[height, width, 3]` (interleaved RGB, rows top to bottom) as PNG bytes.
    public static func encodeRGB8(_ pixels: UnsafePointer<UInt8>, width: Int, height: Int) throws -> [UInt8] {
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
        return Array(out.prefix(Int(size)))
    }

    private static func message(_ image: inout png_image) -> String {
        withUnsafeBytes(of: &image.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
