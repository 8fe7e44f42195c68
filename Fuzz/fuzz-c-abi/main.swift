import AVPGAN
import CAVPGAN
import FuzzDriver
#if canImport(Glibc)
import Glibc
#endif

/// Fuzz target: the C API's argument checks. Each input is a sequence of calls; for each, the
/// fuzzer picks the entry point, NULL or real pointers, sizes (truthful ones, or 2^63 and more,
/// which no real buffer has), capacities no larger than the real buffer, and params/info structs
/// whose `struct_size` and bytes are arbitrary (the memory behind them is as large as they
/// claim). The library must return a status for each, never crash.
///
/// The model is the tiny fixture, `AVPGAN_FUZZ_MODEL` or Tests/Fixtures/golden/avpgan/model.safetensors.
let modelPath = getenv("AVPGAN_FUZZ_MODEL").map { String(cString: $0) } ?? "Tests/Fixtures/golden/avpgan/model.safetensors"
var loaded: OpaquePointer?
guard avpgan_model_load_file(modelPath, nil, &loaded) == 0 else {
    fputs("fuzz-c-abi: cannot load \(modelPath): \(String(cString: avpgan_last_error()))\n", stderr)
    exit(2)
}
nonisolated(unsafe) let model = loaded
exit(runFuzzer(CommandLine.argc, CommandLine.unsafeArgv) { input in
    var r = FuzzReader(input)
    for _ in 0..<4 where !r.bytes.isEmpty { call(&r, model) }
})

/// Scratch (static, so initialised on first use: top-level variables of main.swift would be
/// initialised only after the fuzzing loop returns): `floats[0..<32768]` receives float
/// results, `floats[32768...]` holds the inputs; `bytes[0..<16384]` receives byte results,
/// `bytes[16384 + 1024 k...]` holds struct k.
private enum Scratch {
    static let floats = UnsafeMutablePointer<Float>.allocate(capacity: 1 << 16)
    static let bytes = UnsafeMutableRawPointer.allocate(byteCount: 1 << 16, alignment: 16)
}
private var floats: UnsafeMutablePointer<Float> { Scratch.floats }
private var bytes: UnsafeMutableRawPointer { Scratch.bytes }
private var floatCapacity: Int { 32768 }
private var byteCapacity: Int { 16384 }

/// A size: truthful (at most `limit`) most of the time, 2^63 or more otherwise.
private func size(_ r: inout FuzzReader, limit: Int) -> Int {
    let v = r.integer(UInt64.self)
    if v & 0xF == 0xF { return Int(bitPattern: UInt(v | 1 << 63)) }
    return limit == 0 ? 0 : Int((v >> 4) % UInt64(limit + 1))
}

/// Params or info struct number `slot` of a call: NULL when the fuzzer asks for it, else fuzz
/// bytes whose `struct_size` is truthful (0...255, the memory is there) or 2^63 and more.
private func structure(_ r: inout FuzzReader, _ slot: Int) -> UnsafeMutableRawPointer? {
    if r.byte() & 3 == 0 { return nil }
    let size = r.byte() & 1 == 0 ? Int(r.byte()) : Int(bitPattern: UInt(r.integer(UInt64.self) | 1 << 63))
    let real = size >= 8 ? size : 8
    let p = bytes + byteCapacity + 1024 * slot
    for i in 0..<real { p.storeBytes(of: r.byte(), toByteOffset: i, as: UInt8.self) }
    p.storeBytes(of: size, as: Int.self)
    return p
}

private func call(_ r: inout FuzzReader, _ model: OpaquePointer?) {
    let which = r.byte() % 9
    let m = r.byte() & 7 == 0 ? nil : model
    let out: UnsafeMutablePointer<Float>? = r.byte() & 7 == 0 ? nil : floats
    let needed = UnsafeMutablePointer<Int>.allocate(capacity: 1)
    defer { needed.deallocate() }
    // Samples and features: whatever bit patterns the input holds, in the float scratch.
    let values = min(r.bytes.count / 4, 4096)
    for i in 0..<values { floats[floatCapacity + i] = Float(bitPattern: r.integer(UInt32.self)) }
    let input = UnsafePointer(floats + floatCapacity)
    switch which {
    case 0:
        var loaded: OpaquePointer?
        let n = size(&r, limit: r.bytes.count)
        let data = r.rest()
        _ = data.withUnsafeBytes { avpgan_model_load_buffer($0.baseAddress ?? UnsafeRawPointer(bytes), n, nil, &loaded) }
        avpgan_model_free(loaded)
    case 1:
        _ = avpgan_features_from_pcm(input, size(&r, limit: values), r.integer(UInt32.self) % 50_000,
                                     structure(&r, 0)?.assumingMemoryBound(to: avpgan_frontend_params.self), out,
                                     size(&r, limit: floatCapacity), needed,
                                     structure(&r, 1)?.assumingMemoryBound(to: avpgan_features_info.self))
    case 2:
        _ = avpgan_portrait_pcm(m, input, size(&r, limit: values), r.integer(UInt32.self) % 50_000,
                                structure(&r, 0)?.assumingMemoryBound(to: avpgan_portrait_params.self),
                                bytes.assumingMemoryBound(to: UInt8.self), size(&r, limit: byteCapacity), needed,
                                structure(&r, 1)?.assumingMemoryBound(to: avpgan_portrait_info.self))
    case 3:
        let mels = Int(r.byte())
        let frames = mels == 0 ? size(&r, limit: 0) : size(&r, limit: values / mels)
        _ = avpgan_model_embed(m, input, frames, mels, out, size(&r, limit: 256), needed)
    case 4:
        let dim = Int(r.byte() % 32)
        let n = dim == 0 ? size(&r, limit: 0) : size(&r, limit: values / dim)
        _ = avpgan_model_generate_rgb8(m, input, n, dim, structure(&r, 0)?.assumingMemoryBound(to: avpgan_generate_params.self),
                                       bytes.assumingMemoryBound(to: UInt8.self), size(&r, limit: byteCapacity), needed)
    case 5:
        let data = r.rest()
        _ = data.withUnsafeBytes {
            avpgan_decode_buffer($0.baseAddress ?? UnsafeRawPointer(bytes), size(&r, limit: data.count), r.integer(UInt32.self),
                                 out, size(&r, limit: floatCapacity), needed, nil)
        }
    case 6:
        _ = avpgan_cosine(input, input, size(&r, limit: values), out)
    case 7:
        let s = structure(&r, 0)
        _ = avpgan_portrait_params_init(s?.assumingMemoryBound(to: avpgan_portrait_params.self), s?.load(as: Int.self) ?? 0)
    default:
        _ = avpgan_png_encode(bytes.assumingMemoryBound(to: UInt8.self), UInt32(r.byte() % 40), UInt32(r.byte() % 40),
                              bytes.assumingMemoryBound(to: UInt8.self) + 8192, size(&r, limit: 8192), needed)
    }
}
