import AVPGANCore
import CAVPGAN

// Model entry points: params, load, free, info, embed, generate.

/// Sizes of the structs as version 0.1 of the header declared them (the smallest a caller
/// may pass); fields added later extend the current struct.
private enum StructSize {
    static let modelParams = MemoryLayout<avpgan_model_params>.stride
    static let generateParams = MemoryLayout<avpgan_generate_params>.stride
    static let modelInfo = MemoryLayout<avpgan_model_info>.stride
}

private let defaultModelParams = avpgan_model_params(
    struct_size: StructSize.modelParams, max_header_bytes: 0, inference_only: 1)
private let defaultGenerateParams = avpgan_generate_params(
    struct_size: StructSize.generateParams, pixels: Int32(AVPGAN_PIXELS_MODEL_DEFAULT.rawValue))

func modelFromHandle(_ handle: OpaquePointer?) throws -> Model {
    let handle = try Argument.require(handle, "model")
    return Unmanaged<Model>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
}

/// The load options a caller's `avpgan_model_params` asks for (also what the face-model loaders read).
func loadOptions(_ params: UnsafePointer<avpgan_model_params>?) throws -> LoadOptions {
    let p = try Argument.params(params, defaults: defaultModelParams, minimumSize: StructSize.modelParams, name: "params")
    guard p.max_header_bytes <= UInt64(Int.max) else { throw AVPGANError(.invalidArgument, "params.max_header_bytes is too large") }
    return LoadOptions(maxHeaderBytes: p.max_header_bytes == 0 ? Safetensors.defaultMaxHeaderBytes : Int(p.max_header_bytes),
                       inferenceOnly: p.inference_only != 0)
}

@_cdecl("avpgan_model_params_init")
public func avpgan_model_params_init(_ params: UnsafeMutablePointer<avpgan_model_params>?, _ structSize: Int) -> Int32 {
    ParamsInit.fill(params, size: structSize, defaults: defaultModelParams, minimumSize: StructSize.modelParams)
}

@_cdecl("avpgan_generate_params_init")
public func avpgan_generate_params_init(_ params: UnsafeMutablePointer<avpgan_generate_params>?, _ structSize: Int) -> Int32 {
    ParamsInit.fill(params, size: structSize, defaults: defaultGenerateParams, minimumSize: StructSize.generateParams)
}

@_cdecl("avpgan_model_load_file")
public func avpgan_model_load_file(_ path: UnsafePointer<CChar>?, _ params: UnsafePointer<avpgan_model_params>?,
                                   _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    HandleLoading.file(path, into: out) { try Model(path: $0, options: try loadOptions(params)) }
}

@_cdecl("avpgan_model_load_buffer")
public func avpgan_model_load_buffer(_ data: UnsafeRawPointer?, _ size: Int, _ params: UnsafePointer<avpgan_model_params>?,
                                     _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    HandleLoading.buffer(data, size: size, limit: Model.maxFileBytes, what: "a model", into: out) {
        try Model(bytes: $0, options: try loadOptions(params))
    }
}

@_cdecl("avpgan_model_free")
public func avpgan_model_free(_ handle: OpaquePointer?) {
    guard let handle else { return }
    Unmanaged<Model>.fromOpaque(UnsafeRawPointer(handle)).release()
}

@_cdecl("avpgan_model_get_info")
public func avpgan_model_get_info(_ handle: OpaquePointer?, _ info: UnsafeMutablePointer<avpgan_model_info>?) -> Int32 {
    CallBoundary.run {
        let m = try modelFromHandle(handle)
        let info = try Argument.require(info, "info")
        var full = avpgan_model_info()
        fill(&full, from: m)
        try Argument.fill(info, with: full, size: info.pointee.struct_size, minimumSize: StructSize.modelInfo, name: "info")
    }
}

private func fill(_ info: inout avpgan_model_info, from m: Model) {
    let c = m.config
    info.arch = c.arch.code
    Argument.copyName(c.arch.rawValue, into: &info.arch_name)
    info.format_version = UInt32(ModelConfig.formatVersion)
    info.n_mels = UInt32(c.nMels)
    info.embed_dim = UInt32(c.embedDim)
    info.image_size = UInt32(c.imageSize)
    info.image_channels = 3
    func put<T>(_ widths: [Int], _ count: inout UInt32, _ array: inout T) {
        count = UInt32(widths.count)
        Argument.copyValues(widths.map { UInt32($0) }, into: &array)
    }
    put(c.voiceWidths, &info.n_voice_widths, &info.voice_widths)
    put(c.generatorWidths, &info.n_generator_widths, &info.generator_widths)
    put(m.loaded.contains(.faceEncoder) ? c.faceWidths : [], &info.n_face_widths, &info.face_widths)
    info.n_identities = m.loaded.contains(.classifier) ? UInt32(c.identities) : 0
    info.default_pixels = c.pixels.code
    info.n_parameters = UInt64(m.parameterCount)
}

@_cdecl("avpgan_model_embed")
public func avpgan_model_embed(_ handle: OpaquePointer?, _ features: UnsafePointer<Float>?, _ frames: Int, _ mels: Int,
                               _ embedding: UnsafeMutablePointer<Float>?, _ capacity: Int,
                               _ needed: UnsafeMutablePointer<Int>?) -> Int32 {
    CallBoundary.run {
        let m = try modelFromHandle(handle)
        try Argument.size(frames, "n_frames")
        try Argument.size(mels, "n_mels")
        // Every argument is checked before a size query is answered, as the real call would.
        let features = try Argument.require(features, "features")
        try m.checkEmbedShape(frames: frames, melBands: mels)
        guard try Argument.buffer(embedding, capacity: capacity, needed: m.embedDim, neededOut: needed,
                                  name: "embedding", unit: "floats") else { return }
        try m.embed(features: features, frames: frames, melBands: mels, into: embedding!)
    }
}

/// Validates every argument of a generate call before a size is computed or answered: the
/// model has a generator, n and embed_dim fit it, the embeddings are there.
private func checkGenerate(_ m: Model, _ embeddings: UnsafePointer<Float>?, _ n: Int, embedDim: Int) throws -> UnsafePointer<Float> {
    try Argument.size(n, "n")
    try Argument.size(embedDim, "embed_dim")
    try m.checkGenerateShape(count: n, embedDim: embedDim)
    return try Argument.require(embeddings, "embeddings")
}

@_cdecl("avpgan_model_generate")
public func avpgan_model_generate(_ handle: OpaquePointer?, _ embeddings: UnsafePointer<Float>?, _ n: Int, _ embedDim: Int,
                                  _ images: UnsafeMutablePointer<Float>?, _ capacity: Int,
                                  _ needed: UnsafeMutablePointer<Int>?) -> Int32 {
    CallBoundary.run {
        let m = try modelFromHandle(handle)
        let embeddings = try checkGenerate(m, embeddings, n, embedDim: embedDim)
        guard try Argument.buffer(images, capacity: capacity, needed: n * m.imageFloats, neededOut: needed,
                                  name: "images", unit: "floats") else { return }
        try m.generate(embeddings: embeddings, count: n, embedDim: embedDim, into: images!)
    }
}

@_cdecl("avpgan_model_generate_rgb8")
public func avpgan_model_generate_rgb8(_ handle: OpaquePointer?, _ embeddings: UnsafePointer<Float>?, _ n: Int, _ embedDim: Int,
                                       _ params: UnsafePointer<avpgan_generate_params>?,
                                       _ pixels: UnsafeMutablePointer<UInt8>?, _ capacity: Int,
                                       _ needed: UnsafeMutablePointer<Int>?) -> Int32 {
    CallBoundary.run {
        let m = try modelFromHandle(handle)
        let p = try Argument.params(params, defaults: defaultGenerateParams, minimumSize: StructSize.generateParams, name: "params")
        let mapping = try Argument.pixels(p.pixels, name: "params.pixels")
        let embeddings = try checkGenerate(m, embeddings, n, embedDim: embedDim)
        guard try Argument.buffer(pixels, capacity: capacity, needed: n * m.imageFloats, neededOut: needed,
                                  name: "pixels", unit: "bytes") else { return }
        try m.generateRGB8(embeddings: embeddings, count: n, embedDim: embedDim, pixels: mapping, into: pixels!)
    }
}
