/// What an enhancer session's checkpoint adds to the training step's (metadata
/// `avpgan.enhancer_session.*`, `FaceSessionState`): the sampler's position and seed, the batch
/// size, and the face folder's split and fingerprint.
extension EnhancerTrainingSession {
    /// The session's fields for the checkpoint of the current step.
    var stateMetadata: [String: String] {
        FaceSessionState(faces: faces, position: batches.position, samplerSeed: samplerSeed, batch: batchSize, splitSeed: recipeSeed,
                         validationFraction: validationFraction).metadata(key: Self.metadataKey)
    }
}
