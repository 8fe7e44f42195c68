import CTurboJPEG

/// JPEG decoding (training faces) through libjpeg-turbo's TurboJPEG API.
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
}
