import AVPGANCore
import CAVPGAN

// What the evaluations' step functions share (avpgan_face_similarity_* and
// avpgan_pixel_retrieval_* in steps): the recording paths they take and give, and the buffer of
// fixed-size records a share of the recordings fills.

/// Writes `list` NUL-terminated, one after another, into a caller's buffer (or answers a size
/// query): the recordings functions' output.
func writePathList(_ list: [String], into paths: UnsafeMutablePointer<CChar>?, capacity: Int,
                   needed: UnsafeMutablePointer<Int>?, count: UnsafeMutablePointer<Int>?) throws {
    var bytes: [CChar] = []
    for path in list {
        bytes += path.utf8.map { CChar(bitPattern: $0) }
        bytes.append(0)
    }
    count?.pointee = list.count
    guard try Argument.buffer(paths, capacity: capacity, needed: bytes.count, neededOut: needed, name: "paths", unit: "bytes") else { return }
    paths!.update(from: bytes, count: bytes.count)
}

/// A caller's array of `count` recording paths (non-empty strings).
func pathList(_ recordings: UnsafePointer<UnsafePointer<CChar>?>?, _ count: Int) throws -> [String] {
    try Argument.size(count, "n_recordings")
    guard count > 0 else { return [] }
    let list = Array(UnsafeBufferPointer(start: try Argument.require(recordings, "recordings"), count: count))
    return try list.enumerated().map { try DatasetArguments.string($1, "recordings[\($0)]") }
}

/// What a records step (avpgan_face_similarity_portraits, avpgan_pixel_retrieval_embeddings)
/// checks first, in this order: the model (a generator, `handle`), the `count` recordings, and
/// its params, which must not be NULL (a struct of at least `minimumSize` bytes; fields it
/// predates take `defaults`).
func recordsStepArguments<P>(_ handle: OpaquePointer?, _ recordings: UnsafePointer<UnsafePointer<CChar>?>?, _ count: Int,
                             _ params: UnsafePointer<P>?, defaults: P, minimumSize: Int) throws -> (model: Model, paths: [String], params: P) {
    let model = try generatorModel(handle, "model")
    let paths = try pathList(recordings, count)
    let p = try Argument.params(try Argument.require(params, "params"), defaults: defaults, minimumSize: minimumSize, name: "params")
    return (model, paths, p)
}

/// Answers a records step: `count` records of `recordSize` bytes each, made by `make` into the
/// caller's buffer once it is known to hold them all (a NULL buffer is a size query, answered in
/// `needed` as every other buffer is). `what` names the records in the messages.
func fillRecords(_ what: String, recordSize: Int, count: Int, into buffer: UnsafeMutablePointer<UInt8>?, capacity: Int,
                 needed: UnsafeMutablePointer<Int>?, make: () throws -> [UInt8]) throws {
    let (total, overflow) = recordSize.multipliedReportingOverflow(by: count)
    guard !overflow else { throw AVPGANError(.invalidArgument, "n_recordings is \(count): their \(what) take more bytes than a size_t counts") }
    guard try Argument.buffer(buffer, capacity: capacity, needed: total, neededOut: needed, name: "buffer", unit: "bytes") else { return }
    let bytes = try make()
    guard bytes.count == total else { throw AVPGANError(.internal, "the \(what) took \(bytes.count) bytes, \(total) were announced") }
    buffer!.update(from: bytes, count: bytes.count)
}
