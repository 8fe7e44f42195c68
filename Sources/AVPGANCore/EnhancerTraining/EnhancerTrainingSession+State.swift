/// What an enhancer session's checkpoint adds to the training step's (metadata
/// `avpgan.enhancer_session.*`, `FaceSessionState`): the sampler's position and seed, the batch
/// size, and the face folder's split and fingerprint; and the degradation
/// (`FaceDegradation.text`; GFPGAN's when a checkpoint has none), so that a resumed run makes
/// its inputs as it did.
extension EnhancerTrainingSession {
    /// The session's fields for the checkpoint of the current step.
    var stateMetadata: [String: String] {
        FaceSessionState(faces: faces, position: batches.position, samplerSeed: samplerSeed, batch: batchSize, splitSeed: recipeSeed,
                         validationFraction: validationFraction).metadata(key: Self.metadataKey)
            .merging(["\(Self.metadataKey).degradation": degradation.text]) { $1 }
    }

    /// The degradation a checkpoint's metadata names (GFPGAN's when it names none).
    static func degradation(metadata m: [String: String]) throws -> FaceDegradation {
        guard let text = m["\(metadataKey).degradation"] else { return FaceDegradation() }
        do { return try FaceDegradation(parsing: text) } catch let e as AVPGANError {
            throw AVPGANError.format("enhancer session checkpoint: metadata \(metadataKey).degradation: \(e.message)")
        }
    }
}
