/// Checkpoints of a `GANTrainer`: its networks (spectral norm stored), Adam's moments and
/// step, so a resumed run continues bit-identically.
extension GANTrainer {
    /// All trained parameters, generator first (checkpoint order does not matter).
    var trainedParameters: [TrainedParameter] {
        generator.parameters + faceEncoder.parameters + [discriminator, classifier]
    }

    /// The checkpoint of the current state; `voiceEncoder` tensors come from `voiceTensors`.
    func checkpoint(step: Int, rng: UInt64) -> TrainingCheckpoint {
        var tensors = voiceTensors
        tensors.merge(generator.tensors) { a, _ in a }
        tensors.merge(faceEncoder.tensors) { a, _ in a }
        tensors[TensorLayout.discriminatorWeight] = discriminator.value.array
        tensors[TensorLayout.classifierWeight] = classifier.value.array
        var m: [String: [Float]] = [:], v: [String: [Float]] = [:]
        for p in trainedParameters {
            m[p.name] = p.adam.expAvg.array
            v[p.name] = p.adam.expAvgSq.array
        }
        let adamStep = trainedParameters.first?.adam.step ?? 0
        var c = TrainingCheckpoint(config: config, tensors: tensors, exp_avg: m, exp_avg_sq: v, step: step, adamStep: adamStep, rng: rng)
        if let adam = trainedParameters.first?.adam {
            c.lr = adam.lr; c.beta1 = adam.beta1; c.beta2 = adam.beta2; c.eps = adam.eps
        }
        return c
    }

    /// A trainer in the state of `checkpoint`.
    convenience init(checkpoint c: TrainingCheckpoint) throws {
        try self.init(config: c.config, tensors: c.tensors)
        for p in trainedParameters {
            try p.restoreAdam(expAvg: c.exp_avg, expAvgSq: c.exp_avg_sq, step: c.adamStep)
            p.adam.lr = c.lr; p.adam.beta1 = c.beta1; p.adam.beta2 = c.beta2; p.adam.eps = c.eps
        }
    }
}
