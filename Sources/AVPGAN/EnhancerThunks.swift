import AVPGANCore
import CAVPGAN

// Face-enhancement entry points: load, free, info, params, enhance (RGB8 and raw).

private let enhancerInfoSize = MemoryLayout<avpgan_enhancer_info>.stride
private let enhanceParamsSize = MemoryLayout<avpgan_enhance_params>.stride
private let defaultEnhanceParams = avpgan_enhance_params(
    struct_size: enhanceParamsSize, progress: nil, progress_user_data: nil, abort_fn: nil, abort_user_data: nil)

func enhancerFromHandle(_ handle: OpaquePointer?, name: String = "enhancer") throws -> Enhancer {
    let handle = try Argument.require(handle, name)
    return Unmanaged<Enhancer>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
}

/// The core's progress closure for a caller's params: the abort callback is asked before each
/// stage (the first included), the progress callback told after each.
private func progress(_ params: UnsafePointer<avpgan_enhance_params>?) throws -> Enhancer.Progress? {
    let p = try Argument.params(params, defaults: defaultEnhanceParams, minimumSize: enhanceParamsSize, name: "params")
    guard p.progress != nil || p.abort_fn != nil else { return nil }
    return { done, total in
        if done > 0 { p.progress?(UInt64(done), UInt64(total), p.progress_user_data) }
        if done < total, let abort = p.abort_fn, abort(p.abort_user_data) != 0 { return false }
        return true
    }
}

@_cdecl("avpgan_enhancer_load_file")
public func avpgan_enhancer_load_file(_ path: UnsafePointer<CChar>?, _ params: UnsafePointer<avpgan_model_params>?,
                                      _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    HandleLoading.file(path, into: out, outName: "out_enhancer") { try Enhancer(path: $0, maxHeaderBytes: try loadOptions(params).maxHeaderBytes) }
}

@_cdecl("avpgan_enhancer_load_buffer")
public func avpgan_enhancer_load_buffer(_ data: UnsafeRawPointer?, _ size: Int, _ params: UnsafePointer<avpgan_model_params>?,
                                        _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    HandleLoading.buffer(data, size: size, limit: Enhancer.maxFileBytes, what: "an enhancer", into: out, outName: "out_enhancer") {
        try Enhancer(bytes: $0, maxHeaderBytes: try loadOptions(params).maxHeaderBytes)
    }
}

@_cdecl("avpgan_enhancer_free")
public func avpgan_enhancer_free(_ handle: OpaquePointer?) {
    guard let handle else { return }
    Unmanaged<Enhancer>.fromOpaque(UnsafeRawPointer(handle)).release()
}

@_cdecl("avpgan_enhancer_get_info")
public func avpgan_enhancer_get_info(_ handle: OpaquePointer?, _ info: UnsafeMutablePointer<avpgan_enhancer_info>?) -> Int32 {
    CallBoundary.run {
        let e = try enhancerFromHandle(handle)
        let info = try Argument.require(info, "info")
        var full = avpgan_enhancer_info()
        let c = e.config
        Argument.copyName(EnhancerConfig.archName, into: &full.arch_name)
        full.size = UInt32(c.outSize)
        full.num_style_feat = UInt32(c.styleDim)
        full.channel_multiplier = c.channelMultiplier
        full.narrow = c.narrow
        full.num_mlp = UInt32(c.mlpLayers)
        full.different_w = c.differentW ? 1 : 0
        full.sft_half = c.sftHalf ? 1 : 0
        full.input_is_latent = c.inputIsLatent ? 1 : 0
        full.n_parameters = UInt64(e.parameterCount)
        full.file_bytes = UInt64(e.fileBytes)
        Argument.copyName(e.sha256, into: &full.sha256)
        try Argument.fill(info, with: full, size: info.pointee.struct_size, minimumSize: enhancerInfoSize, name: "info")
    }
}

@_cdecl("avpgan_enhance_params_init")
public func avpgan_enhance_params_init(_ params: UnsafeMutablePointer<avpgan_enhance_params>?, _ size: Int) -> Int32 {
    ParamsInit.fill(params, size: size, defaults: defaultEnhanceParams, minimumSize: enhanceParamsSize)
}

@_cdecl("avpgan_enhance")
public func avpgan_enhance(_ handle: OpaquePointer?, _ pixels: UnsafePointer<UInt8>?, _ width: Int, _ height: Int,
                           _ rowStride: Int, _ params: UnsafePointer<avpgan_enhance_params>?,
                           _ out: UnsafeMutablePointer<UInt8>?, _ capacity: Int, _ needed: UnsafeMutablePointer<Int>?) -> Int32 {
    CallBoundary.run {
        let e = try enhancerFromHandle(handle)
        let side = 1...Enhancer.maxImageSide
        guard side.contains(width), side.contains(height) else {
            throw AVPGANError(.invalidArgument, "the image is \(width) x \(height) pixels; each side must be 1...\(Enhancer.maxImageSide)")
        }
        let stride = rowStride == 0 ? 3 * width : rowStride
        guard stride >= 3 * width, stride <= 1 << 20 else {
            throw AVPGANError(.invalidArgument, "row_stride is \(rowStride) bytes; it must be 0 or at least width * 3 (\(3 * width)) and at most 2^20")
        }
        let report = try progress(params)
        guard try Argument.buffer(out, capacity: capacity, needed: 3 * e.size * e.size, neededOut: needed,
                                  name: "out", unit: "bytes") else { return }
        let pixels = try Argument.require(pixels, "pixels")
        try e.enhanceRGB8(pixels, width: width, height: height, rowStride: stride, into: out!, progress: report)
    }
}

@_cdecl("avpgan_enhance_raw")
public func avpgan_enhance_raw(_ handle: OpaquePointer?, _ images: UnsafePointer<Float>?, _ n: Int,
                               _ params: UnsafePointer<avpgan_enhance_params>?,
                               _ out: UnsafeMutablePointer<Float>?, _ capacity: Int, _ needed: UnsafeMutablePointer<Int>?) -> Int32 {
    CallBoundary.run {
        let e = try enhancerFromHandle(handle)
        guard (1...Enhancer.maxBatch).contains(n) else { throw AVPGANError(.invalidArgument, "n is \(n), expected 1...\(Enhancer.maxBatch)") }
        let report = try progress(params)
        let floats = 3 * e.size * e.size
        guard try Argument.buffer(out, capacity: capacity, needed: n * floats, neededOut: needed,
                                  name: "out", unit: "floats") else { return }
        let images = try Argument.require(images, "images")
        // Into scratch first: an aborted or failed call leaves the caller's buffer untouched.
        let result = try FloatStorage(count: n * floats)
        try e.enhanceRaw(images, count: n, into: result.pointer, progress: report)
        out!.update(from: result.pointer, count: n * floats)
    }
}
