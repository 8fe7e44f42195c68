import AVPGANCore
import CAVPGAN

// Face-recognition entry points: load, free, info, embed, cosine.

/// The size of avpgan_face_model_info as the header introduced it (the smallest a caller may pass).
private let faceInfoSize = MemoryLayout<avpgan_face_model_info>.stride

func faceModelFromHandle(_ handle: OpaquePointer?) throws -> FaceModel {
    let handle = try Argument.require(handle, "model")
    return Unmanaged<FaceModel>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
}

@_cdecl("avpgan_face_model_load_file")
public func avpgan_face_model_load_file(_ path: UnsafePointer<CChar>?, _ params: UnsafePointer<avpgan_model_params>?,
                                        _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    HandleLoading.file(path, into: out) { try FaceModel(path: $0, maxHeaderBytes: try loadOptions(params).maxHeaderBytes) }
}

@_cdecl("avpgan_face_model_load_buffer")
public func avpgan_face_model_load_buffer(_ data: UnsafeRawPointer?, _ size: Int, _ params: UnsafePointer<avpgan_model_params>?,
                                          _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    HandleLoading.buffer(data, size: size, limit: FaceModel.maxFileBytes, what: "a face model", into: out) {
        try FaceModel(bytes: $0, maxHeaderBytes: try loadOptions(params).maxHeaderBytes)
    }
}

@_cdecl("avpgan_face_model_free")
public func avpgan_face_model_free(_ handle: OpaquePointer?) {
    guard let handle else { return }
    Unmanaged<FaceModel>.fromOpaque(UnsafeRawPointer(handle)).release()
}

@_cdecl("avpgan_face_model_get_info")
public func avpgan_face_model_get_info(_ handle: OpaquePointer?, _ info: UnsafeMutablePointer<avpgan_face_model_info>?) -> Int32 {
    CallBoundary.run {
        let m = try faceModelFromHandle(handle)
        let info = try Argument.require(info, "info")
        var full = avpgan_face_model_info()
        let c = m.config
        full.arch = c.arch.code
        Argument.copyName(c.arch.rawValue, into: &full.arch_name)
        full.input_size = UInt32(c.inputSize)
        full.embed_dim = UInt32(c.embedDim)
        full.input_mean = c.inputMean
        full.input_std = c.inputStd
        full.bgr = c.bgr ? 1 : 0
        full.n_parameters = UInt64(m.parameterCount)
        try Argument.fill(info, with: full, size: info.pointee.struct_size, minimumSize: faceInfoSize, name: "info")
    }
}

@_cdecl("avpgan_face_model_embed_rgb8")
public func avpgan_face_model_embed_rgb8(_ handle: OpaquePointer?, _ pixels: UnsafePointer<UInt8>?, _ width: Int, _ height: Int,
                                         _ rowStride: Int, _ embedding: UnsafeMutablePointer<Float>?, _ capacity: Int,
                                         _ needed: UnsafeMutablePointer<Int>?) -> Int32 {
    CallBoundary.run {
        let m = try faceModelFromHandle(handle)
        try Argument.size(width, "width")
        try Argument.size(height, "height")
        try Argument.size(rowStride, "row_stride")
        let side = 1...FaceModel.maxImageSide
        guard side.contains(width), side.contains(height) else {
            throw AVPGANError(.invalidArgument, "the image is \(width) x \(height) pixels; each side must be 1...\(FaceModel.maxImageSide)")
        }
        let stride = rowStride == 0 ? 3 * width : rowStride
        guard stride >= 3 * width, stride <= 1 << 20 else {
            throw AVPGANError(.invalidArgument, "row_stride is \(rowStride) bytes; it must be 0 or at least width * 3 (\(3 * width)) and at most 2^20")
        }
        let pixels = try Argument.require(pixels, "pixels")
        guard try Argument.buffer(embedding, capacity: capacity, needed: m.embedDim, neededOut: needed,
                                  name: "embedding", unit: "floats") else { return }
        if stride == 3 * width {
            try m.embedRGB8(pixels, width: width, height: height, into: embedding!)
        } else {
            var packed = [UInt8](repeating: 0, count: 3 * width * height)
            for y in 0..<height { for x in 0..<(3 * width) { packed[3 * width * y + x] = pixels[stride * y + x] } }
            try m.embedRGB8(packed, width: width, height: height, into: embedding!)
        }
    }
}

@_cdecl("avpgan_cosine")
public func avpgan_cosine(_ a: UnsafePointer<Float>?, _ b: UnsafePointer<Float>?, _ n: Int,
                          _ similarity: UnsafeMutablePointer<Float>?) -> Int32 {
    CallBoundary.run {
        let out = try Argument.require(similarity, "similarity")
        let a = try Argument.require(a, "a"), b = try Argument.require(b, "b")
        try Argument.size(n, "n")
        guard (1...(1 << 24)).contains(n) else { throw AVPGANError(.invalidArgument, "n is \(n), expected 1...2^24") }
        try Model.checkFinite(a, count: n, name: "a") { "value \($0)" }
        try Model.checkFinite(b, count: n, name: "b") { "value \($0)" }
        out.pointee = Float(cosineSimilarity(a, b, count: n))
    }
}
