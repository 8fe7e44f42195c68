import AVPGANCore
#if canImport(Glibc)
import Glibc
#endif
import CAVPGAN

// Front-end and portrait entry points.

private enum PortraitStructSize {
    static let frontendParams = MemoryLayout<avpgan_frontend_params>.stride
    static let featuresInfo = MemoryLayout<avpgan_features_info>.stride
    /// avpgan_portrait_params as 0.1.0 first declared it: up to the appended `enhancer`.
    static let portraitParams = MemoryLayout<avpgan_portrait_params>.offset(of: \avpgan_portrait_params.enhancer)!
    static let portraitParamsNow = MemoryLayout<avpgan_portrait_params>.stride
    static let portraitInfo = MemoryLayout<avpgan_portrait_info>.stride
}

private let defaultFrontendParams = avpgan_frontend_params(
    struct_size: PortraitStructSize.frontendParams, seconds: 0, vad: 1, vad_mode: 2)
private let defaultPortraitParams = avpgan_portrait_params(
    struct_size: PortraitStructSize.portraitParamsNow, seconds: 0, vad: 1, vad_mode: 2,
    pixels: Int32(AVPGAN_PIXELS_MODEL_DEFAULT.rawValue), noise: 0, seed: 0, provenance: 1, timestamp: 0, enhancer: nil)

private func frontEndOptions(seconds: Double, vad: Int32, mode: Int32) throws -> FrontEndOptions {
    guard seconds.isFinite, seconds >= 0 else { throw AVPGANError(.invalidArgument, "params.seconds is \(seconds), expected >= 0 (0 = all)") }
    guard vad == 0 || vad == 1 else { throw AVPGANError(.invalidArgument, "params.vad is \(vad), expected 0 or 1") }
    guard (0...3).contains(mode) else { throw AVPGANError(.invalidArgument, "params.vad_mode is \(mode), expected 0...3") }
    return FrontEndOptions(seconds: seconds == 0 ? nil : seconds, vad: vad == 1, vadMode: Int(mode))
}

private func portraitOptions(_ p: avpgan_portrait_params) throws -> PortraitOptions {
    let mapping = try Argument.pixels(p.pixels, name: "params.pixels")
    guard p.provenance == 0 || p.provenance == 1, p.timestamp == 0 || p.timestamp == 1 else {
        throw AVPGANError(.invalidArgument, "params.provenance and params.timestamp take 0 or 1")
    }
    let enhancer = try p.enhancer.map { try enhancerFromHandle($0, name: "params.enhancer") }
    return PortraitOptions(frontEnd: try frontEndOptions(seconds: p.seconds, vad: p.vad, mode: p.vad_mode),
                           pixels: mapping, noise: p.noise, seed: p.seed, enhancer: enhancer,
                           provenance: p.provenance == 1, timestamp: p.timestamp == 1)
}

/// The caller's samples, after the checks that need no decoding (a size query makes them too).
private func pcm(_ samples: UnsafePointer<Float>?, _ n: Int, _ rate: UInt32) throws -> UnsafeBufferPointer<Float> {
    try Argument.size(n, "n_samples")
    guard samples != nil || n == 0 else { throw AVPGANError(.invalidArgument, "samples is NULL") }
    guard n > 0 else { throw AVPGANError(.noSpeech, "the recording has no samples (n_samples is 0)") }
    try AudioDecoder.checkSampleRate(Int(rate))
    return UnsafeBufferPointer(start: samples, count: n)
}

private func fill(_ info: UnsafeMutablePointer<avpgan_portrait_info>?, _ p: Portrait) throws {
    guard let info else { return }
    var full = avpgan_portrait_info()
    full.input_seconds = p.features.inputSeconds
    full.voiced_seconds = p.features.voicedSeconds
    full.n_frames = UInt32(p.features.frames)
    full.embed_dim = UInt32(p.embedding.count)
    Argument.copyValues(p.embedding, into: &full.embedding)
    try Argument.fill(info, with: full, size: info.pointee.struct_size, minimumSize: PortraitStructSize.portraitInfo, name: "info")
}

@_cdecl("avpgan_frontend_params_init")
public func avpgan_frontend_params_init(_ params: UnsafeMutablePointer<avpgan_frontend_params>?, _ size: Int) -> Int32 {
    ParamsInit.fill(params, size: size, defaults: defaultFrontendParams, minimumSize: PortraitStructSize.frontendParams)
}

@_cdecl("avpgan_portrait_params_init")
public func avpgan_portrait_params_init(_ params: UnsafeMutablePointer<avpgan_portrait_params>?, _ size: Int) -> Int32 {
    ParamsInit.fill(params, size: size, defaults: defaultPortraitParams, minimumSize: PortraitStructSize.portraitParams)
}

@_cdecl("avpgan_features_from_pcm")
public func avpgan_features_from_pcm(_ samples: UnsafePointer<Float>?, _ n: Int, _ rate: UInt32,
                                     _ params: UnsafePointer<avpgan_frontend_params>?,
                                     _ features: UnsafeMutablePointer<Float>?, _ capacity: Int,
                                     _ needed: UnsafeMutablePointer<Int>?,
                                     _ info: UnsafeMutablePointer<avpgan_features_info>?) -> Int32 {
    CallBoundary.run {
        let p = try Argument.params(params, defaults: defaultFrontendParams, minimumSize: PortraitStructSize.frontendParams, name: "params")
        let options = try frontEndOptions(seconds: p.seconds, vad: p.vad, mode: p.vad_mode)
        let f = try FrontEnd.features(pcm: try pcm(samples, n, rate), channels: 1, sampleRate: Int(rate), options: options)
        if let info {
            var full = avpgan_features_info()
            full.n_frames = UInt32(f.frames)
            full.n_computed = UInt32(f.computedFrames)
            full.input_seconds = f.inputSeconds
            full.voiced_seconds = f.voicedSeconds
            try Argument.fill(info, with: full, size: info.pointee.struct_size, minimumSize: PortraitStructSize.featuresInfo, name: "info")
        }
        guard try Argument.buffer(features, capacity: capacity, needed: f.values.count, neededOut: needed,
                                  name: "features", unit: "floats") else { return }
        features!.update(from: f.values, count: f.values.count)
    }
}

/// The shared tail of the RGB8 portrait calls: the params, the size check (a size query
/// returns here, after every argument was checked), then `decode`, the portrait and `info`.
private func portraitRGB8(_ handle: OpaquePointer?, _ params: UnsafePointer<avpgan_portrait_params>?,
                          _ pixels: UnsafeMutablePointer<UInt8>?, _ capacity: Int, _ needed: UnsafeMutablePointer<Int>?,
                          _ info: UnsafeMutablePointer<avpgan_portrait_info>?,
                          check: () throws -> Void, features: (FrontEndOptions) throws -> VoiceFeatures) throws {
    let m = try modelFromHandle(handle)
    let p = try Argument.params(params, defaults: defaultPortraitParams, minimumSize: PortraitStructSize.portraitParams, name: "params")
    let pipeline = try PortraitPipeline(model: m, options: try portraitOptions(p))
    try check()
    let side = pipeline.imageSize
    guard try Argument.buffer(pixels, capacity: capacity, needed: 3 * side * side, neededOut: needed,
                              name: "pixels", unit: "bytes") else { return }
    let portrait = try pipeline.portrait { try features(pipeline.options.frontEnd) }
    try fill(info, portrait)
    pixels!.update(from: portrait.pixels, count: portrait.pixels.count)
}

@_cdecl("avpgan_portrait_pcm")
public func avpgan_portrait_pcm(_ handle: OpaquePointer?, _ samples: UnsafePointer<Float>?, _ n: Int, _ rate: UInt32,
                                _ params: UnsafePointer<avpgan_portrait_params>?,
                                _ pixels: UnsafeMutablePointer<UInt8>?, _ capacity: Int,
                                _ needed: UnsafeMutablePointer<Int>?,
                                _ info: UnsafeMutablePointer<avpgan_portrait_info>?) -> Int32 {
    CallBoundary.run {
        try portraitRGB8(handle, params, pixels, capacity, needed, info, check: { _ = try pcm(samples, n, rate) },
                         features: { try FrontEnd.features(pcm: try pcm(samples, n, rate), channels: 1, sampleRate: Int(rate), options: $0,
                                                            frameLimit: Model.maxFrames) })
    }
}

@_cdecl("avpgan_portrait_file_rgb8")
public func avpgan_portrait_file_rgb8(_ handle: OpaquePointer?, _ voicePath: UnsafePointer<CChar>?,
                                      _ params: UnsafePointer<avpgan_portrait_params>?,
                                      _ pixels: UnsafeMutablePointer<UInt8>?, _ capacity: Int,
                                      _ needed: UnsafeMutablePointer<Int>?,
                                      _ info: UnsafeMutablePointer<avpgan_portrait_info>?) -> Int32 {
    CallBoundary.run {
        let voice = String(cString: try Argument.require(voicePath, "voice_path"))
        try portraitRGB8(handle, params, pixels, capacity, needed, info, check: {
            guard access(voice, R_OK) == 0 else { throw AVPGANError(.io, "cannot read '\(voice)': \(String(cString: strerror(errno)))") }
        }, features: { try FrontEnd.features(path: voice, options: $0, frameLimit: Model.maxFrames) })
    }
}

@_cdecl("avpgan_portrait_buffer_rgb8")
public func avpgan_portrait_buffer_rgb8(_ handle: OpaquePointer?, _ data: UnsafeRawPointer?, _ size: Int,
                                        _ params: UnsafePointer<avpgan_portrait_params>?,
                                        _ pixels: UnsafeMutablePointer<UInt8>?, _ capacity: Int,
                                        _ needed: UnsafeMutablePointer<Int>?,
                                        _ info: UnsafeMutablePointer<avpgan_portrait_info>?) -> Int32 {
    CallBoundary.run {
        try Argument.size(size, "size")
        try portraitRGB8(handle, params, pixels, capacity, needed, info, check: {
            guard data != nil else { throw AVPGANError(.invalidArgument, "data is NULL") }
            guard size > 0 else { throw AVPGANError(.audioFormat, "the audio buffer is empty (size is 0)") }
        }, features: { try FrontEnd.features(bytes: UnsafeRawBufferPointer(start: data, count: size), options: $0,
                                                  frameLimit: Model.maxFrames) })
    }
}

@_cdecl("avpgan_portrait_file")
public func avpgan_portrait_file(_ handle: OpaquePointer?, _ voicePath: UnsafePointer<CChar>?, _ pngPath: UnsafePointer<CChar>?,
                                 _ params: UnsafePointer<avpgan_portrait_params>?,
                                 _ info: UnsafeMutablePointer<avpgan_portrait_info>?) -> Int32 {
    CallBoundary.run {
        let m = try modelFromHandle(handle)
        let voice = String(cString: try Argument.require(voicePath, "voice_path"))
        let output = String(cString: try Argument.require(pngPath, "png_path"))
        let p = try Argument.params(params, defaults: defaultPortraitParams, minimumSize: PortraitStructSize.portraitParams, name: "params")
        let png = try PortraitPipeline(model: m, options: try portraitOptions(p)).png(voicePath: voice) { try fill(info, $0) }
        try FileIO.write(png, to: output)
    }
}
