/// What an enhancer session's checkpoint adds to the training step's (metadata
/// `avpgan.enhancer_session.*`): the sampler's position and seed, the batch size, and the face
/// folder's split and fingerprint (size, count, and the SHA-256 of the faces' paths), so that a
/// resumed run draws the same batches from the same faces, or says why it cannot.
extension EnhancerTrainingSession {
    struct SessionState {
        var position: Int, samplerSeed: UInt64, batch: Int
        var size: Int, faceCount: Int, fingerprint: String
        var splitSeed: UInt64, validationFraction: Double

        /// Reads the fields from a checkpoint's metadata; `.modelFormat` names a missing or bad one.
        init(metadata m: [String: String]) throws {
            let key = EnhancerTrainingSession.metadataKey
            let fields = CheckpointMetadataFields(metadata: m, key: key, what: "enhancer session checkpoint")
            (position, samplerSeed, batch) = (try fields.integer("position"), try fields.seed("sampler_seed"), try fields.integer("batch"))
            (size, faceCount, fingerprint) = (try fields.integer("size"), try fields.integer("faces"), try fields.text("faces_sha256"))
            splitSeed = try fields.seed("split_seed")
            guard let fraction = Double(try fields.text("validation_fraction")), fraction >= 0, fraction < 1 else {
                throw AVPGANError.format("enhancer session checkpoint: metadata \(key).validation_fraction is not in [0, 1)")
            }
            validationFraction = fraction
            guard (1...4096).contains(batch), EnhancerFaceSet.sizes.contains(size) else {
                throw AVPGANError.format("enhancer session checkpoint: batch \(batch) or face size \(size) is out of range")
            }
        }
    }

    /// The session's fields for the checkpoint of the current step.
    var stateMetadata: [String: String] {
        let fields = ["position": String(batches.position), "sampler_seed": String(samplerSeed), "batch": String(batchSize),
                      "size": String(faces.size), "faces": String(faces.count), "faces_sha256": Self.fingerprint(faces),
                      "split_seed": String(recipeSeed), "validation_fraction": "\(validationFraction)"]
        var out = [Self.metadataKey: "1"]
        for (k, v) in fields { out["\(Self.metadataKey).\(k)"] = v }
        return out
    }

    /// The SHA-256 of the faces' size and relative paths, in order.
    static func fingerprint(_ faces: EnhancerFaceSet) -> String {
        SHA256.hex(Array(([String(faces.size)] + faces.paths).joined(separator: "\n").utf8))
    }

    /// The lines of a JSONL log whose `step` is at most `step` (a resumed run's log continues
    /// from its checkpoint; lines written after it, by a run that ended without saving, go).
    static func lines(_ log: [UInt8], upTo step: Int) -> [UInt8] {
        var out: [UInt8] = []
        for line in log.split(separator: UInt8(ascii: "\n")) {
            guard let value = try? JSON.parse(String(decoding: line, as: UTF8.self)), let s = value["step"]?.integerValue,
                  s <= step else { continue }
            out += line + [UInt8(ascii: "\n")]
        }
        return out
    }
}
