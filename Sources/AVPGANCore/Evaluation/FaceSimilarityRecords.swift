/// The portraits of an evaluation as bytes that travel between processes: what `avpgan eval`
/// over MPI gathers on rank 0, and what the C API's per-recording step (`portraits`, on any
/// process) and its scoring step (`score`, once) hand each other. Bit for bit: scoring decoded records gives the one-process report exactly.
///
/// One record per recording, all of the same size for a given model and lengths, so records
/// concatenate (the caller joins the parts made by different processes, in recording order) and
/// their size is known before any work. A record, little-endian:
///
/// | bytes | what |
/// |---|---|
/// | 4 | "AVFS" |
/// | 4 | format version, 1 |
/// | 4 | the record's size in bytes |
/// | 4 | lengths L |
/// | 4 | image size S |
/// | 4 | 1: portraits; 0: the recording has no speech |
/// | 64 | the model's SHA-256, hex |
/// | 32 | the SHA-256 of the recording's path (UTF-8), as given |
/// | 8 L | the lengths asked (seconds, IEEE-754; 0: the whole voiced recording) |
/// | 256 | why the recording has no speech (UTF-8, NUL-padded; all NUL with portraits) |
/// | L (8 + 3 S²) | per length: the voiced seconds used (IEEE-754), the face (RGB8, zeros when none) |
public enum FaceSimilarityRecords {
    static let magic: [UInt8] = Array("AVFS".utf8)
    static let version: UInt32 = 1
    static let reasonBytes = 256
    static let headerBytes = 24 + 64 + 32

    /// The size of one record for `lengths` voice lengths and `imageSize` square faces.
    public static func recordSize(lengths: Int, imageSize: Int) -> Int {
        headerBytes + 8 * lengths + reasonBytes + lengths * (8 + 3 * imageSize * imageSize)
    }

    /// The records of `recordings` (paths, as given), made by `model` at each of `seconds` (nil:
    /// the whole voiced recording), in order: the per-recording work of the evaluation. Threads
    /// split the recordings; a recording without speech is a record saying why, any other
    /// failure is thrown (the first failing recording's error). `shouldStop` is asked before
    /// each recording, from the worker threads.
    public static func make(_ model: Model, recordings: [String], seconds: [Double?],
                            progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in },
                            shouldStop: @escaping @Sendable () -> Bool = { false }) throws -> [UInt8] {
        let faces = try FaceSimilarityEvaluation.portraits(model, recordings: recordings.map { (identity: 0, path: $0) }[...],
                                                           seconds: seconds, progress: progress, shouldStop: shouldStop)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(recordings.count * recordSize(lengths: seconds.count, imageSize: model.imageSize))
        for (r, f) in faces.enumerated() {
            encode(f, path: recordings[r], model: model, seconds: seconds, into: &bytes)
        }
        return bytes
    }

    /// Appends the record of one recording's portraits to `bytes`.
    static func encode(_ faces: FaceSimilarityEvaluation.RecordingFaces, path: String, model: Model, seconds: [Double?],
                       into bytes: inout [UInt8]) {
        let size = model.imageSize, start = bytes.count
        func put(_ v: UInt64, _ n: Int) { for k in 0..<n { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(k)))) } }
        bytes += magic
        put(UInt64(version), 4)
        put(UInt64(recordSize(lengths: seconds.count, imageSize: size)), 4)
        put(UInt64(seconds.count), 4)
        put(UInt64(size), 4)
        put(faces.skipped == nil ? 1 : 0, 4)
        bytes += Array(model.sha256.utf8.prefix(64)) + [UInt8](repeating: 0, count: max(0, 64 - model.sha256.utf8.count))
        bytes += pathDigest(path)
        for s in seconds { put((s ?? 0).bitPattern, 8) }
        var reason: [UInt8] = []  // whole characters only, up to reasonBytes
        for c in (faces.skipped ?? "").unicodeScalars {
            let utf8 = Array(String(c).utf8)
            guard reason.count + utf8.count <= reasonBytes else { break }
            reason += utf8
        }
        bytes += reason + [UInt8](repeating: 0, count: reasonBytes - reason.count)
        for l in seconds.indices {
            let face = faces.skipped == nil ? faces.faces[l] : (face: [UInt8](repeating: 0, count: 3 * size * size), voiced: 0)
            put(face.voiced.bitPattern, 8)
            bytes += face.face
        }
        assert(bytes.count - start == recordSize(lengths: seconds.count, imageSize: size))
    }

    static func pathDigest(_ path: String) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(Array(path.utf8))
        return hasher.finalize()
    }

    /// The portraits in `bytes`, one record per recording of `recordings` in that order, each
    /// checked: the format, the model (its SHA-256), the lengths, the recording (its path's
    /// digest). Every mismatch is an `invalidArgument` error naming the record.
    public static func decode(_ bytes: [UInt8], recordings: [String], model: Model, seconds: [Double?]) throws
        -> [FaceSimilarityEvaluation.RecordingFaces] {
        let size = model.imageSize, one = recordSize(lengths: seconds.count, imageSize: size)
        guard bytes.count == recordings.count * one else {
            throw AVPGANError.invalid("the portraits hold \(bytes.count) bytes; \(recordings.count) recordings at \(seconds.count) lengths with \(size) x \(size) faces take \(recordings.count * one) (\(one) per recording)")
        }
        var out: [FaceSimilarityEvaluation.RecordingFaces] = []
        out.reserveCapacity(recordings.count)
        for (r, path) in recordings.enumerated() {
            out.append(try decodeOne(bytes, at: r * one, index: r, path: path, model: model, seconds: seconds))
        }
        return out
    }

    static func decodeOne(_ bytes: [UInt8], at base: Int, index r: Int, path: String, model: Model, seconds: [Double?]) throws
        -> FaceSimilarityEvaluation.RecordingFaces {
        func get(_ offset: Int, _ n: Int) -> UInt64 {
            (0..<n).reduce(UInt64(0)) { $0 | UInt64(bytes[base + offset + $1]) << (8 * UInt64($1)) }
        }
        func bad(_ what: String) -> AVPGANError { AVPGANError.invalid("portrait record \(r) (\(path)): \(what)") }
        let size = model.imageSize, face = 3 * size * size
        guard Array(bytes[base..<(base + 4)]) == magic, get(4, 4) == UInt64(version) else {
            throw bad("not a face-similarity portrait record of format \(version) (as the per-recording step writes them)")
        }
        guard get(12, 4) == UInt64(seconds.count), get(16, 4) == UInt64(size) else {
            throw bad("made at \(get(12, 4)) lengths with \(get(16, 4)) x \(get(16, 4)) faces, expected \(seconds.count) lengths and \(size) x \(size)")
        }
        let sha = String(decoding: bytes[(base + 24)..<(base + 88)], as: UTF8.self)
        guard sha == model.sha256 else { throw bad("made by the model with SHA-256 \(sha.prefix(16))…, not by this one (\(model.sha256.prefix(16))…)") }
        guard Array(bytes[(base + 88)..<(base + 120)]) == pathDigest(path) else {
            throw bad("made from another recording; the records must follow the recordings in order")
        }
        for (l, s) in seconds.enumerated() where Double(bitPattern: get(headerBytes + 8 * l, 8)) != (s ?? 0) {
            throw bad("made at \(Double(bitPattern: get(headerBytes + 8 * l, 8))) s for length \(l), expected \(s ?? 0) s")
        }
        let reasonAt = base + headerBytes + 8 * seconds.count
        let flag = get(20, 4)
        guard flag <= 1 else { throw bad("its flag is \(flag), expected 0 or 1") }
        if flag == 0 {
            let reason = bytes[reasonAt..<(reasonAt + reasonBytes)].prefix { $0 != 0 }
            return .init(faces: [], skipped: String(decoding: reason, as: UTF8.self))
        }
        var at = reasonAt + reasonBytes
        var faces: [(face: [UInt8], voiced: Double)] = []
        for _ in seconds {
            let voiced = Double(bitPattern: get(at - base, 8))
            faces.append((Array(bytes[(at + 8)..<(at + 8 + face)]), voiced))
            at += 8 + face
        }
        return .init(faces: faces, skipped: nil)
    }
}
