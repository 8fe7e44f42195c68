/// One iteration of Algorithm 1 exactly as the reference's `gan_step` runs it (see
/// Tests/Fixtures/training/README.md and docs/training-design.md): frozen voice encoder,
/// embeddings re-normalised with noise, a discriminator step on f, d, c (BCE real, BCE fake,
/// NLL identity), then a generator step on g (BCE fake-as-real, NLL with the voice's identity),
/// each followed by Adam.
final class GANTrainer {
    let config: ModelConfig
    let voiceEncoder: Model
    let generator: TrainableStack
    let faceEncoder: TrainableStack
    let discriminator: TrainedParameter
    let classifier: TrainedParameter
    /// The frozen voice encoder's tensors, kept for checkpoints.
    let voiceTensors: [String: [Float]]

    /// From the five networks' tensors (checkpoint names, spectral norm stored).
    init(config: ModelConfig, tensors: [String: [Float]]) throws {
        self.config = config
        var inference = config
        inference.networks = [.voiceEncoder, .generator]
        inference.faceWidths = []
        inference.identities = 0
        let wanted = Set(TensorLayout.tensors(for: inference).map(\.name))
        voiceEncoder = try Model(bytes: try ModelFileWriter.serialize(config: inference, tensors: tensors.filter { wanted.contains($0.key) }))
        voiceTensors = tensors.filter { $0.key.hasPrefix("voice_encoder.") }
        generator = try TrainableStack(network: .generator, config: config, tensors: tensors)
        faceEncoder = try TrainableStack(network: .faceEncoder, config: config, tensors: tensors)
        let e = config.embedDim
        guard let d = tensors["discriminator.model.weight"], let c = tensors["classifier.model.weight"] else {
            throw AVPGANError.invalid("training tensors lack the discriminator or classifier")
        }
        discriminator = try TrainedParameter(name: "discriminator.model.weight", shape: [1, e], values: d)
        classifier = try TrainedParameter(name: "classifier.model.weight", shape: [config.identities, e], values: c)
    }

    /// One step. voices `[n, frames, 64]` frame-major; faces `[n, 3, S, S]`; noise `[n, E]`.
    /// Returns the five losses: d_real, d_fake, c_real, g_fake, g_class.
    func step(voices: [Float], frames: Int, voiceLabels: [Int], faces: [Float], faceLabels: [Int], noise: [Float]) throws -> [Float] {
        let n = voiceLabels.count, e = config.embedDim, ids = config.identities, size = config.imageSize
        // 1-2. Embeddings: e(voice), normalise, + noise, normalise; as CNHW [E, n, 1, 1].
        let embeddings = try FeatureMapStorage(channels: e, batch: n, height: 1, width: 1)
        var one = [Float](repeating: 0, count: e)
        for b in 0..<n {
            try voices.withUnsafeBufferPointer {
                try voiceEncoder.embed(features: $0.baseAddress! + b * frames * 64, frames: frames, melBands: 64, into: &one)
            }
            one.withUnsafeMutableBufferPointer { Reductions.l2Normalize($0.baseAddress!, count: e) }
            for i in 0..<e { one[i] += noise[b * e + i] }
            one.withUnsafeMutableBufferPointer { Reductions.l2Normalize($0.baseAddress!, count: e) }
            for i in 0..<e { embeddings.storage.pointer[i * n + b] = one[i] }
        }
        // 3. fake = g(emb), once.
        let tapeG = try generator.forward(embeddings)
        let fake = tapeG.output!
        let faceMap = try FeatureMapStorage(channels: 3, batch: n, height: size, width: size)
        for b in 0..<n { for c in 0..<3 {
            (faceMap.storage.pointer + (c * n + b) * size * size).update(from: faces.withUnsafeBufferPointer { $0.baseAddress! } + (b * 3 + c) * size * size, count: size * size)
        } }
        let fakeCopy = try FeatureMapStorage(channels: 3, batch: n, height: size, width: size)
        fakeCopy.storage.pointer.update(from: fake.storage.pointer, count: 3 * n * size * size)

        // 4-5. Discriminator step on f, d, c.
        faceEncoder.zeroGrad(); discriminator.zeroGrad(); classifier.zeroGrad()
        let t1 = try faceEncoder.forward(faceMap), t2 = try faceEncoder.forward(fakeCopy), t3 = try faceEncoder.forward(faceMap)
        let (dReal, g1) = try head(discriminator, t1, rows: 1, target: .constant(1))
        let (dFake, g2) = try head(discriminator, t2, rows: 1, target: .constant(0))
        let (cReal, g3) = try head(classifier, t3, rows: ids, target: .labels(faceLabels))
        _ = try faceEncoder.backward(t1, gradOutput: g1, inputGradient: false)
        _ = try faceEncoder.backward(t2, gradOutput: g2, inputGradient: false)
        _ = try faceEncoder.backward(t3, gradOutput: g3, inputGradient: false)
        faceEncoder.step(); discriminator.step(); classifier.step()

        // 6-7. Generator step on g, through the updated f, d, c.
        generator.zeroGrad()
        let t4 = try faceEncoder.forward(fake), t5 = try faceEncoder.forward(fake)
        let (gFake, g4) = try head(discriminator, t4, rows: 1, target: .constant(1))
        let (gClass, g5) = try head(classifier, t5, rows: ids, target: .labels(voiceLabels))
        // f, d and c gradients of the G step are discarded (the next zero_grad), so skip them.
        let dFake4 = try faceEncoder.backward(t4, gradOutput: g4, inputGradient: true, parameterGradients: false)!
        let dFake5 = try faceEncoder.backward(t5, gradOutput: g5, inputGradient: true, parameterGradients: false)!
        for i in 0..<(3 * n * size * size) { dFake4.storage.pointer[i] += dFake5.storage.pointer[i] }
        _ = try generator.backward(tapeG, gradOutput: dFake4, inputGradient: false)
        generator.step()
        return [dReal, dFake, cReal, gFake, gClass]
    }

    enum Target {
        case constant(Float)
        case labels([Int])
    }

    /// A head (bias-free linear) on the face encoder's output `[E, n, 1, 1]`, its loss, and
    /// dL/d(face-encoder output). The head's weight gradient is ADDED to `weight.grad`.
    private func head(_ weight: TrainedParameter, _ tape: TrainableStack.Tape, rows: Int, target: Target) throws
        -> (Float, FeatureMapStorage)
    {
        let out = tape.output!, e = out.channels, n = out.batch
        var h = [Float](repeating: 0, count: n * e)
        for b in 0..<n { for i in 0..<e { h[b * e + i] = out.storage.pointer[i * n + b] } }
        let linear = Linear(weight: weight.value, bias: nil, inFeatures: e, outFeatures: rows)
        var logits = [Float](repeating: 0, count: n * rows)
        linear.forward(h, batch: n, into: &logits)
        var dLogits = [Float](repeating: 0, count: n * rows)
        let loss: Float
        switch target {
        case let .constant(t):
            let targets = [Float](repeating: t, count: n)
            loss = Losses.bceWithSigmoid(logits: logits, targets: targets, count: n, gradLogits: &dLogits)
        case let .labels(labels):
            var logProbs = [Float](repeating: 0, count: n * rows), dLogProbs = logProbs
            Losses.logSoftmax(logits, rows: n, classes: rows, into: &logProbs)
            loss = Losses.nll(logProbs: logProbs, labels: labels, classes: rows, gradLogProbs: &dLogProbs)
            Losses.logSoftmaxBackward(output: logProbs, gradOutput: dLogProbs, rows: n, classes: rows, into: &dLogits)
        }
        var dh = [Float](repeating: 0, count: n * e)
        linear.backward(input: h, gradOutput: dLogits, batch: n, gradInput: &dh, gradWeight: weight.grad.pointer, gradBias: nil)
        let grad = try FeatureMapStorage(channels: e, batch: n, height: 1, width: 1)
        for b in 0..<n { for i in 0..<e { grad.storage.pointer[i * n + b] = dh[b * e + i] } }
        return (loss, grad)
    }
}
