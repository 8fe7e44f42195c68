/// What a face-folder training session's checkpoint adds to its training step's (metadata
/// `<key>.*`): the sampler's position and seed, the batch size, and the face folder's split and
/// fingerprint (size, count, and the SHA-256 of the faces' paths), so that a resumed run draws
/// the same batches from the same faces, or says why it cannot. Shared by
/// `EnhancerTrainingSession` and `PriorTrainingSession`.
struct FaceSessionState {
    var position: Int, samplerSeed: UInt64, batch: Int
    var size: Int, faceCount: Int, fingerprint: String
    /// The recipe's seed (it seeded the split), and the held-out share.
    var splitSeed: UInt64, validationFraction: Double

    init(faces: EnhancerFaceSet, position: Int, samplerSeed: UInt64, batch: Int, splitSeed: UInt64, validationFraction: Double) {
        (self.position, self.samplerSeed, self.batch) = (position, samplerSeed, batch)
        (size, faceCount, fingerprint) = (faces.size, faces.count, Self.fingerprint(faces))
        (self.splitSeed, self.validationFraction) = (splitSeed, validationFraction)
    }

    /// Reads the fields from a checkpoint's metadata; `.modelFormat` names a missing or bad one
    /// (`what`: the checkpoint's kind, the messages' start).
    init(metadata m: [String: String], key: String, what: String) throws {
        let fields = CheckpointMetadataFields(metadata: m, key: key, what: what)
        (position, samplerSeed, batch) = (try fields.integer("position"), try fields.seed("sampler_seed"), try fields.integer("batch"))
        (size, faceCount, fingerprint) = (try fields.integer("size"), try fields.integer("faces"), try fields.text("faces_sha256"))
        splitSeed = try fields.seed("split_seed")
        guard let fraction = Double(try fields.text("validation_fraction")), fraction >= 0, fraction < 1 else {
            throw AVPGANError.format("\(what): metadata \(key).validation_fraction is not in [0, 1)")
        }
        validationFraction = fraction
        guard (1...4096).contains(batch), EnhancerFaceSet.sizes.contains(size) else {
            throw AVPGANError.format("\(what): batch \(batch) or face size \(size) is out of range")
        }
    }

    /// The fields as metadata under `key`.
    func metadata(key: String) -> [String: String] {
        let fields = ["position": String(position), "sampler_seed": String(samplerSeed), "batch": String(batch),
                      "size": String(size), "faces": String(faceCount), "faces_sha256": fingerprint,
                      "split_seed": String(splitSeed), "validation_fraction": "\(validationFraction)"]
        var out = [key: "1"]
        for (k, v) in fields { out["\(key).\(k)"] = v }
        return out
    }

    /// The faces of `folder` split as this state's run split them; throws `invalidArgument`
    /// when they are not the faces the checkpoint was trained on, or `batch` is not its batch.
    func faces(folder: String, batch: Int?) throws -> EnhancerFaceSet {
        var options = EnhancerFaceSet.Options()
        (options.size, options.seed, options.validationFraction) = (size, splitSeed, validationFraction)
        let faces = try EnhancerFaceSet(folder: folder, options: options)
        guard Self.fingerprint(faces) == fingerprint else {
            throw AVPGANError.invalid("the checkpoint was trained on another face folder (\(faceCount) faces of \(size) px with other names or order; '\(folder)' has \(faces.count)): resume on the same faces")
        }
        if let batch, batch != self.batch {
            throw AVPGANError.invalid("the checkpoint's run has batches of \(self.batch), not \(batch): a resumed run keeps its batch size")
        }
        return faces
    }

    /// The SHA-256 of the faces' size and relative paths, in order.
    static func fingerprint(_ faces: EnhancerFaceSet) -> String {
        SHA256.hex(Array(([String(faces.size)] + faces.paths).joined(separator: "\n").utf8))
    }
}
