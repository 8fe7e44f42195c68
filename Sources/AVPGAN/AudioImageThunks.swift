import AVPGANCore
import CAVPGAN

// Audio decoding and PNG encoding entry points.

private enum AudioStructSize {
    static let audioInfo = MemoryLayout<avpgan_audio_info>.stride
}

/// Checks `target_rate`: 0 keeps the file's rate.
private func targetRate(_ rate: UInt32) throws -> Int? {
    guard rate == 0 || (1000...1_000_000).contains(rate) else {
        throw AVPGANError(.invalidArgument, "target_rate is \(rate) Hz, expected 0 (keep) or 1000...1000000")
    }
    return rate == 0 ? nil : Int(rate)
}

/// Writes decoded audio to the caller's buffers: samples scaled back to [-1, 1].
private func deliver(_ audio: DecodedAudio, _ samples: UnsafeMutablePointer<Float>?, _ capacity: Int,
                     _ needed: UnsafeMutablePointer<Int>?, _ info: UnsafeMutablePointer<avpgan_audio_info>?) throws {
    if let info {
        var full = avpgan_audio_info()
        full.sample_rate = UInt32(audio.sampleRate)
        full.original_rate = UInt32(audio.originalRate)
        full.channels = UInt32(audio.channels)
        full.n_samples = UInt64(audio.samples.count)
        full.seconds = audio.seconds
        Argument.copyName(audio.format, into: &full.format)
        try Argument.fill(info, with: full, size: info.pointee.struct_size, minimumSize: AudioStructSize.audioInfo, name: "info")
    }
    guard try Argument.buffer(samples, capacity: capacity, needed: audio.samples.count, neededOut: needed,
                              name: "samples", unit: "floats") else { return }
    let scale = 1 / AudioDecoder.int16Scale
    for i in audio.samples.indices { samples![i] = audio.samples[i] * scale }
}

@_cdecl("avpgan_decode_file")
public func avpgan_decode_file(_ path: UnsafePointer<CChar>?, _ rate: UInt32, _ samples: UnsafeMutablePointer<Float>?,
                               _ capacity: Int, _ needed: UnsafeMutablePointer<Int>?,
                               _ info: UnsafeMutablePointer<avpgan_audio_info>?) -> Int32 {
    CallBoundary.run {
        let path = String(cString: try Argument.require(path, "path"))
        let audio = try AudioDecoder.decode(path: path, targetRate: try targetRate(rate))
        try deliver(audio, samples, capacity, needed, info)
    }
}

@_cdecl("avpgan_decode_buffer")
public func avpgan_decode_buffer(_ data: UnsafeRawPointer?, _ size: Int, _ rate: UInt32, _ samples: UnsafeMutablePointer<Float>?,
                                 _ capacity: Int, _ needed: UnsafeMutablePointer<Int>?,
                                 _ info: UnsafeMutablePointer<avpgan_audio_info>?) -> Int32 {
    CallBoundary.run {
        guard data != nil else { throw AVPGANError(.invalidArgument, "data is NULL") }
        try Argument.size(size, "size")
        let audio = try AudioDecoder.decode(bytes: UnsafeRawBufferPointer(start: data, count: size), targetRate: try targetRate(rate))
        try deliver(audio, samples, capacity, needed, info)
    }
}

@_cdecl("avpgan_png_encode")
public func avpgan_png_encode(_ pixels: UnsafePointer<UInt8>?, _ width: UInt32, _ height: UInt32,
                              _ png: UnsafeMutablePointer<UInt8>?, _ capacity: Int,
                              _ needed: UnsafeMutablePointer<Int>?) -> Int32 {
    CallBoundary.run { try encodePNG(pixels, width, height, text: [], png, capacity, needed) }
}

@_cdecl("avpgan_png_encode_text")
public func avpgan_png_encode_text(_ pixels: UnsafePointer<UInt8>?, _ width: UInt32, _ height: UInt32,
                                   _ keys: UnsafePointer<UnsafePointer<CChar>?>?, _ values: UnsafePointer<UnsafePointer<CChar>?>?,
                                   _ count: Int, _ png: UnsafeMutablePointer<UInt8>?, _ capacity: Int,
                                   _ needed: UnsafeMutablePointer<Int>?) -> Int32 {
    CallBoundary.run {
        try Argument.size(count, "n_text")
        guard count <= 1024 else { throw AVPGANError(.invalidArgument, "n_text is \(count), at most 1024") }
        var text: [(String, String)] = []
        if count > 0 {
            let keys = try Argument.require(keys, "keys"), values = try Argument.require(values, "values")
            for i in 0..<count {
                let key = try Argument.require(keys[i], "keys[\(i)]"), value = try Argument.require(values[i], "values[\(i)]")
                text.append((String(cString: key), String(cString: value)))
            }
        }
        try encodePNG(pixels, width, height, text: text, png, capacity, needed)
    }
}

/// 8-bit RGB to PNG (with text chunks) into the caller's buffer.
private func encodePNG(_ pixels: UnsafePointer<UInt8>?, _ width: UInt32, _ height: UInt32, text: [(String, String)],
                       _ png: UnsafeMutablePointer<UInt8>?, _ capacity: Int, _ needed: UnsafeMutablePointer<Int>?) throws {
    let pixels = try Argument.require(pixels, "pixels")
    guard width > 0, height > 0, UInt64(width) * UInt64(height) <= UInt64(PNGCodec.maxDecodePixels) else {
        throw AVPGANError(.invalidArgument, "image size \(width)x\(height) is not 1...\(PNGCodec.maxDecodePixels) pixels")
    }
    let bytes = try PNGCodec.encodeRGB8(pixels, width: Int(width), height: Int(height), text: text)
    guard try Argument.buffer(png, capacity: capacity, needed: bytes.count, neededOut: needed, name: "png", unit: "bytes") else { return }
    png!.update(from: bytes, count: bytes.count)
}
