/// Typed reads of a training checkpoint's metadata fields `<key>.<field>`, each failure a
/// `.modelFormat` error that names the checkpoint kind (`what`, e.g. "prior training
/// checkpoint") and the field. Shared by the enhancer's and the face prior's training steps and
/// the enhancer session, whose checkpoints store their settings as text in the metadata.
struct CheckpointMetadataFields {
    let metadata: [String: String]
    /// The fields' prefix, e.g. `avpgan.prior_training`.
    let key: String
    /// The checkpoint's kind as a message names it.
    let what: String

    /// The raw text of `field`; missing is an error.
    func text(_ field: String) throws -> String {
        guard let v = metadata["\(key).\(field)"] else { throw AVPGANError.format("\(what): metadata \(key).\(field) is missing") }
        return v
    }

    /// `count` comma-separated finite numbers.
    func numbers(_ field: String, _ count: Int) throws -> [Double] {
        let parts = try text(field).split(separator: ",").map { Double($0) }
        guard parts.count == count, parts.allSatisfy({ $0 != nil && $0!.isFinite }) else {
            throw AVPGANError.format("\(what): metadata \(key).\(field) is not \(count) numbers")
        }
        return parts.map { $0! }
    }

    /// A count: an integer ≥ 0.
    func integer(_ field: String) throws -> Int {
        guard let v = Int(try text(field)), v >= 0 else { throw AVPGANError.format("\(what): metadata \(key).\(field) is not a count") }
        return v
    }

    /// A 64-bit seed or generator state.
    func seed(_ field: String) throws -> UInt64 {
        guard let v = UInt64(try text(field)) else { throw AVPGANError.format("\(what): metadata \(key).\(field) is not a seed") }
        return v
    }
}
