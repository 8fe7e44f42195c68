/// The value checks both training-checkpoint readers make (`TrainingCheckpoint`,
/// `VoiceTrainingCheckpoint`): a checkpoint is untrusted input, and a NaN, an infinity or a
/// negative second moment in it would make every later step's losses NaN.
enum CheckpointValues {
    /// `values` of tensor `name`, checked: every value finite; Adam's second moments
    /// (`adam.exp_avg_sq.*`) and batch-norm running variances (`*.running_var`) also >= 0.
    static func checked(_ values: [Float], name: String) throws -> [Float] {
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw AVPGANError.format("checkpoint tensor \(name) holds a non-finite value (\(values[bad])) at element \(bad)")
        }
        if name.hasPrefix("adam.exp_avg_sq.") || name.hasSuffix(".running_var"), let bad = values.firstIndex(where: { $0 < 0 }) {
            throw AVPGANError.format("checkpoint tensor \(name) holds a negative value (\(values[bad])) at element \(bad); it is a variance")
        }
        return values
    }

    /// Adam's hyper-parameters as the checkpoint states them: lr finite and >= 0, betas in
    /// [0, 1), eps finite and > 0.
    static func checkAdam(lr: Double, beta1: Double, beta2: Double, eps: Double, key: String) throws {
        guard lr.isFinite, lr >= 0 else { throw AVPGANError.format("metadata \(key): lr is \(lr), expected a finite number >= 0") }
        for (name, beta) in [("beta1", beta1), ("beta2", beta2)] where !(beta >= 0 && beta < 1) {
            throw AVPGANError.format("metadata \(key): \(name) is \(beta), expected 0 <= \(name) < 1")
        }
        guard eps.isFinite, eps > 0 else { throw AVPGANError.format("metadata \(key): eps is \(eps), expected a finite number > 0") }
    }
}
