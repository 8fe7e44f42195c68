/// The voice embeddings of a pixel-retrieval check as bytes that travel between processes:
/// what `avpgan pixel-retrieval` over MPI gathers on rank 0, and what the C API's per-recording
/// step (`embeddings`) and its generation and ranking step (`score`, once) hand each other. Bit for bit: ranking decoded records
/// gives the one-process result exactly.
///
/// One record per recording, all of one size for a model, so records of consecutive shares
/// concatenate and their size is known before any work. A record, little-endian:
///
/// | bytes | what |
/// |---|---|
/// | 4 | "AVPR" |
/// | 4 | format version, 1 |
/// | 4 | the record's size in bytes |
/// | 4 | embedding size E |
/// | 4 | 1: an embedding; 0: the recording has no speech |
/// | 4 | zero |
/// | 64 | the model's SHA-256, hex |
/// | 32 | the SHA-256 of the recording's path (UTF-8), as given |
/// | 4 E | the voice embedding (IEEE-754 single; zeros when none) |
public enum PixelRetrievalRecords {
    static let magic: [UInt8] = Array("AVPR".utf8)
    static let version: UInt32 = 1
    static let headerBytes = 24 + 64 + 32

    /// The size of one record for a model with `embedDim`-value voice embeddings.
    public static func recordSize(embedDim: Int) -> Int { headerBytes + 4 * embedDim }

    /// The records of `recordings` (paths, as given): each one's whole-utterance features from
    /// `cache` embedded by `model`, in order (`PixelRetrievalEvaluation.embeddings`: progress
    /// after each recording, `shouldStop` before each).
    public static func make(_ model: Model, recordings: [String], cache: FeatureCache, progress: (Int, Int) -> Void = { _, _ in },
                            shouldStop: () -> Bool = { false }) throws -> [UInt8] {
        let embeddings = try PixelRetrievalEvaluation.embeddings(model, recordings: recordings.map { (identity: 0, path: $0) }[...],
                                                                 cache: cache, progress: progress, shouldStop: shouldStop)
        let e = model.embedDim
        var bytes: [UInt8] = []
        bytes.reserveCapacity(recordings.count * recordSize(embedDim: e))
        func put(_ v: UInt64, _ n: Int) { for k in 0..<n { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(k)))) } }
        for (r, embedding) in embeddings.enumerated() {
            bytes += magic
            put(UInt64(version), 4)
            put(UInt64(recordSize(embedDim: e)), 4)
            put(UInt64(e), 4)
            put(embedding == nil ? 0 : 1, 4)
            put(0, 4)
            bytes += Array(model.sha256.utf8.prefix(64)) + [UInt8](repeating: 0, count: max(0, 64 - model.sha256.utf8.count))
            bytes += FaceSimilarityRecords.pathDigest(recordings[r])
            for v in embedding ?? [Float](repeating: 0, count: e) { put(UInt64(v.bitPattern), 4) }
        }
        return bytes
    }

    /// The embeddings in `bytes` (nil: no speech), one record per recording of `recordings` in
    /// that order, each checked (format, model, recording); a mismatch is an `invalidArgument`
    /// error naming the record.
    public static func decode(_ bytes: [UInt8], recordings: [String], model: Model) throws -> [[Float]?] {
        let e = model.embedDim, one = recordSize(embedDim: e)
        guard bytes.count == recordings.count * one else {
            throw AVPGANError.invalid("the embeddings hold \(bytes.count) bytes; \(recordings.count) recordings of a model with \(e)-value embeddings take \(recordings.count * one) (\(one) per recording)")
        }
        var out: [[Float]?] = []
        for (r, path) in recordings.enumerated() {
            let base = r * one
            func get(_ offset: Int, _ n: Int) -> UInt64 {
                (0..<n).reduce(UInt64(0)) { $0 | UInt64(bytes[base + offset + $1]) << (8 * UInt64($1)) }
            }
            func bad(_ what: String) -> AVPGANError { AVPGANError.invalid("embedding record \(r) (\(path)): \(what)") }
            guard Array(bytes[base..<(base + 4)]) == magic, get(4, 4) == UInt64(version), get(12, 4) == UInt64(e) else {
                throw bad("not an embedding record of format \(version) for \(e)-value embeddings (as the per-recording step writes them)")
            }
            let sha = String(decoding: bytes[(base + 24)..<(base + 88)], as: UTF8.self)
            guard sha == model.sha256 else { throw bad("made by the model with SHA-256 \(sha.prefix(16))…, not by this one (\(model.sha256.prefix(16))…)") }
            guard Array(bytes[(base + 88)..<(base + 120)]) == FaceSimilarityRecords.pathDigest(path) else {
                throw bad("made from another recording; the records must follow the recordings in order")
            }
            switch get(16, 4) {
            case 0: out.append(nil)
            case 1: out.append((0..<e).map { Float(bitPattern: UInt32(get(headerBytes + 4 * $0, 4))) })
            case let flag: throw bad("its flag is \(flag), expected 0 or 1")
            }
        }
        return out
    }
}
