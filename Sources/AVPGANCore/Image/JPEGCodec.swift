import CTurboJPEG

/// JPEG decoding (training faces) and encoding (the enhancer's training degradation) through
/// libjpeg-turbo's TurboJPEG API.
public enum JPEGCodec {
    /// Decodes a JPEG to 8-bit RGB `[height, width, 3]`; refuses images over
    /// `PNGCodec.maxDecodePixels` before allocating.
    public static func decodeRGB8(_ jpeg: [UInt8]) throws -> (pixels: [UInt8], width: Int, height: Int) {
        guard let handle = tjInitDecompress() else { throw AVPGANError(.outOfMemory, "cannot start the JPEG decoder") }
        defer { tjDestroy(handle) }
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        let header = jpeg.withUnsafeBufferPointer {
            tjDecompressHeader3(handle, $0.baseAddress, UInt(jpeg.count), &width, &height, &subsampling, &colorspace)
        }
        guard header == 0 else { throw AVPGANError.invalid("not a readable JPEG: \(String(cString: tjGetErrorStr2(handle)))") }
        guard width > 0, height > 0, Int(width) * Int(height) <= PNGCodec.maxDecodePixels else {
            throw AVPGANError.invalid("JPEG of \(width)x\(height) pixels is larger than the \(PNGCodec.maxDecodePixels)-pixel limit")
        }
        var pixels = [UInt8](repeating: 0, count: Int(width) * Int(height) * 3)
        let status = jpeg.withUnsafeBufferPointer { src in
            pixels.withUnsafeMutableBufferPointer { dst in
                tjDecompress2(handle, src.baseAddress, UInt(jpeg.count), dst.baseAddress, width, width * 3, height,
                              Int32(TJPF_RGB.rawValue), 0)
            }
        }
        guard status == 0 else { throw AVPGANError.invalid("damaged JPEG: \(String(cString: tjGetErrorStr2(handle)))") }
        return (pixels, Int(width), Int(height))
    }

    /// Encodes 8-bit RGB `pixels[height, width, 3]` at `quality` (1...100) with 4:2:0 chroma
    /// subsampling (libjpeg's default, as OpenCV's `imencode` writes).
    public static func encodeRGB8(_ pixels: [UInt8], width: Int, height: Int, quality: Int) throws -> [UInt8] {
        guard width > 0, height > 0, pixels.count == width * height * 3, width <= Int(Int32.max) / 3, height <= Int(Int32.max) else {
            throw AVPGANError.invalid("cannot encode a \(width)x\(height) JPEG from \(pixels.count) bytes")
        }
        guard (1...100).contains(quality) else { throw AVPGANError.invalid("JPEG quality \(quality) is outside 1...100") }
        guard let handle = tjInitCompress() else { throw AVPGANError(.outOfMemory, "cannot start the JPEG encoder") }
        defer { tjDestroy(handle) }
        var buffer: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        defer { if let buffer { tjFree(buffer) } }
        let status = pixels.withUnsafeBufferPointer {
            tjCompress2(handle, $0.baseAddress, Int32(width), Int32(width * 3), Int32(height), Int32(TJPF_RGB.rawValue),
                        &buffer, &size, Int32(TJSAMP_420.rawValue), Int32(quality), 0)
        }
        guard status == 0, let buffer else { throw AVPGANError.invalid("JPEG encoding failed: \(String(cString: tjGetErrorStr2(handle)))") }
        return Array(UnsafeBufferPointer(start: buffer, count: Int(size)))
    }
}
