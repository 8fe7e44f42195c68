// Training/: what the reference's training does, exactly. `GANTrainer` (here) is one step of
// Algorithm 1 on `TrainableStack`'s taped forward passes, with the backward passes of each
// layer (`*Backward`, `BatchNormTraining`, `SpectralNormTraining`), `Losses` and `Adam`;
// `TrainingRun` drives the steps over a data set with checkpoints and `TrainingHealth`, across
// processes with `DataParallel`. The voice encoder's pre-training (`VoiceEncoder*Train*`,
// `VoiceEncoderPretrain*`) and `NetworkInitializer` make the starting weights.

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
        voiceTensors = tensors.filter { TensorLayout.belongs($0.key, to: .voiceEncoder) }
        generator = try TrainableStack(network: .generator, config: config, tensors: tensors)
        faceEncoder = try TrainableStack(network: .faceEncoder, config: config, tensors: tensors)
        let e = config.embedDim
        guard let d = tensors[TensorLayout.discriminatorWeight], let c = tensors[TensorLayout.classifierWeight] else {
            throw AVPGANError.invalid("training tensors lack the discriminator or classifier")
        }
        discriminator = try TrainedParameter(name: TensorLayout.discriminatorWeight, shape: [1, e], values: d)
        classifier = try TrainedParameter(name: TensorLayout.classifierWeight, shape: [config.identities, e], values: c)
        tapeG = generator.makeTape()
        tapes = [faceEncoder.makeTape(), faceEncoder.makeTape(), faceEncoder.makeTape()]
    }

    /// Tapes and maps kept from step to step (their memory is reused).
    private let tapeG: TrainableStack.Tape
    private let tapes: [TrainableStack.Tape]
    private let buffers = Workspace()
    private let voiceWorkspace = Workspace()

    /// One step. voices `[n, frames, 64]` frame-major; faces `[n, 3, S, S]`; noise `[n, E]`.
    /// Returns the five losses: d_real, d_fake, c_real, g_fake, g_class.
    ///
    /// f runs five forwards in the reference. Without spectral norm (voice2face) a forward is a
    /// pure function of f's parameters and input, so f(face) twice in the D step, and f(fake)
    /// twice in the G step, are one forward each here, and their two heads' gradients are
    /// summed before one backward (the same gradient: backward is linear in dL/d(output)).
    func step(voices: [Float], frames: Int, voiceLabels: [Int], faces: [Float], faceLabels: [Int], noise: [Float]) throws -> [Float] {
        let n = voiceLabels.count, e = config.embedDim, ids = config.identities, size = config.imageSize
        let image = 3 * size * size
        // 1-2. Embeddings: e(voice), normalise, + noise, normalise; as CNHW [E, n, 1, 1].
        let embeddings = FeatureMap(data: try buffers.slot(Slot.embeddings, count: e * n), channels: e, batch: n, height: 1, width: 1)
        let bands = LogMelExtractor.bands
        guard frames >= 1, frames <= Model.maxFrames, voices.count == n * frames * bands, voiceEncoder.config.nMels == bands else {
            throw AVPGANError.invalid("voices must be [\(n), frames, \(bands)] with 1...\(Model.maxFrames) frames")
        }
        let raw = try buffers.slot(Slot.voiceEmbeddings, count: n * e)
        try voices.withUnsafeBufferPointer { v in
            try Model.checkFinite(v.baseAddress!, count: n * frames * bands, name: "voice features") { i in "value \(i)" }
            try voiceEncoder.voiceEncoder.embedBatch(v.baseAddress!, count: n, frames: frames, workspace: voiceWorkspace, into: raw)
        }
        for b in 0..<n {
            let one = raw + b * e
            Reductions.l2Normalize(one, count: e)
            for i in 0..<e { one[i] += noise[b * e + i] }
            Reductions.l2Normalize(one, count: e)
            for i in 0..<e { embeddings.data[i * n + b] = one[i] }
        }
        // 3. fake = g(emb), once.
        try generator.forward(embeddings, tape: tapeG)
        let fake = tapeG.output!
        // The spread's sums; with ranks they are added with the G step's gradients below.
        let spreadSums = try buffers.slot(Slot.spreadSums, count: 2 * fake.channels * fake.plane + 5)
        GANTrainer.spreadSums(fake, into: spreadSums)
        let faceMap = FeatureMap(data: try buffers.slot(Slot.faces, count: image * n), channels: 3, batch: n, height: size, width: size)
        faces.withUnsafeBufferPointer { src in
            for b in 0..<n { for c in 0..<3 {
                faceMap.channel(c).advanced(by: b * size * size).update(from: src.baseAddress! + (b * 3 + c) * size * size, count: size * size)
            } }
        }
        let grads = try (0..<5).map { FeatureMap(data: try buffers.slot(Slot.headGradients + $0, count: e * n), channels: e, batch: n, height: 1, width: 1) }
        let pure = faceEncoder.isPure

        // 4-5. Discriminator step on f, d, c.
        faceEncoder.zeroGrad(); discriminator.zeroGrad(); classifier.zeroGrad()
        let (t1, t2, t3) = (tapes[0], tapes[1], pure ? tapes[0] : tapes[2])
        try faceEncoder.forward(faceMap, tape: t1)
        try faceEncoder.forward(fake, tape: t2)
        if !pure { try faceEncoder.forward(faceMap, tape: t3) }
        let dReal = try head(discriminator, t1, rows: 1, target: .constant(1), grad: grads[0])
        let dFake = try head(discriminator, t2, rows: 1, target: .constant(0), grad: grads[1])
        let cReal = try head(classifier, t3, rows: ids, target: .labels(faceLabels), grad: grads[2])
        if pure {
            add(grads[2], into: grads[0])
            try faceEncoder.backward(t1, gradOutput: grads[0])
            try faceEncoder.backward(t2, gradOutput: grads[1])
        } else {
            try faceEncoder.backward(t1, gradOutput: grads[0])
            try faceEncoder.backward(t2, gradOutput: grads[1])
            try faceEncoder.backward(t3, gradOutput: grads[2])
        }
        let share = Float(n) / Float(reducer == nil ? n : globalBatch)
        if let reducer {
            try packer.reduce(faceEncoder.parameters + [discriminator, classifier], weight: share, with: reducer)
        }
        faceEncoder.step(); discriminator.step(); classifier.step()

        // 6-7. Generator step on g, through the updated f, d, c.
        generator.zeroGrad()
        let (t4, t5) = (tapes[0], pure ? tapes[0] : tapes[1])
        try faceEncoder.forward(fake, tape: t4)
        if !pure { try faceEncoder.forward(fake, tape: t5) }
        let gFake = try head(discriminator, t4, rows: 1, target: .constant(1), grad: grads[3])
        let gClass = try head(classifier, t5, rows: ids, target: .labels(voiceLabels), grad: grads[4])
        // f, d and c gradients of the G step are discarded (the next zero_grad), so skip them.
        let dFake4 = FeatureMap(data: try buffers.slot(Slot.fakeGradients, count: image * n), channels: 3, batch: n, height: size, width: size)
        if pure {
            add(grads[4], into: grads[3])
            try faceEncoder.backward(t4, gradOutput: grads[3], gradInput: dFake4, parameterGradients: false)
        } else {
            let dFake5 = FeatureMap(data: try buffers.slot(Slot.fakeGradients + 1, count: image * n), channels: 3, batch: n, height: size, width: size)
            try faceEncoder.backward(t4, gradOutput: grads[3], gradInput: dFake4, parameterGradients: false)
            try faceEncoder.backward(t5, gradOutput: grads[4], gradInput: dFake5, parameterGradients: false)
            add(dFake5, into: dFake4)
        }
        try generator.backward(tapeG, gradOutput: dFake4)
        // The losses (each rank's mean, weighted by its share) ride along after the spread sums.
        let sumCount = 2 * fake.channels * fake.plane
        let losses = spreadSums + sumCount
        for (k, loss) in [dReal, dFake, cReal, gFake, gClass].enumerated() { losses[k] = loss * share }
        if let reducer {
            try packer.reduce(generator.parameters, extra: spreadSums, extraCount: sumCount + 5, weight: share, with: reducer)
        }
        generator.step()
        lastBatch = reducer == nil ? n : globalBatch
        lastSpread = GANTrainer.spread(sums: spreadSums, channels: fake.channels, plane: fake.plane, count: lastBatch)
        return (0..<5).map { losses[$0] }
    }

    /// Data parallelism: with a reducer, `step` is given this rank's rows of a global batch of
    /// `globalBatch` rows, and every optimizer step applies the gradient of the whole batch.
    var reducer: GradientReducer?
    var globalBatch = 0
    private let packer = GradientPacker()

    /// `buffers` slots of `step`.
    private enum Slot {
        static let embeddings = 0, faces = 1, fakeGradients = 2, headGradients = 4, voiceEmbeddings = 9, spreadSums = 10
    }

    /// The batch spread of the last step's generated faces (`TrainingHealth`).
    private(set) var lastSpread: Float = 0
    /// The batch size of the last step.
    private(set) var lastBatch = 0

    /// Mean over channels and pixels of the (population) standard deviation across the batch of
    /// `images` `[C, n, H, W]`, each value clamped to [-1, 1] as pixels are; 0 for one image.
    /// `sums`: scratch of 2 x C x H x W floats.
    static func batchSpread(_ images: FeatureMap, sums: UnsafeMutablePointer<Float>) -> Float {
        guard images.batch > 1 else { return 0 }
        spreadSums(images, into: sums)
        return spread(sums: sums, channels: images.channels, plane: images.plane, count: images.batch)
    }

    /// Per channel and pixel, the sum and the sum of squares over the batch of the clamped values
    /// of `images` `[C, n, H, W]`, into `sums` `[C][2][H x W]` (sums, then squares): what
    /// ranks add to judge the spread of a global batch.
    static func spreadSums(_ images: FeatureMap, into sums: UnsafeMutablePointer<Float>) {
        let n = images.batch, hw = images.plane
        for c in 0..<images.channels {
            let base = images.channel(c), sum = sums + 2 * c * hw, sq = sum + hw
            sum.update(repeating: 0, count: 2 * hw)
            for b in 0..<n {
                let x = base + b * hw
                for i in 0..<hw {
                    let v = min(max(x[i], -1), 1)
                    sum[i] += v
                    sq[i] += v * v
                }
            }
        }
    }

    /// The spread from `spreadSums` over `count` images; 0 for fewer than two.
    static func spread(sums: UnsafePointer<Float>, channels: Int, plane hw: Int, count n: Int) -> Float {
        guard n > 1 else { return 0 }
        var total = 0.0
        let inv = 1 / Float(n)
        for c in 0..<channels {
            let sum = sums + 2 * c * hw, sq = sum + hw
            var channelSum: Float = 0
            for i in 0..<hw {
                let mean = sum[i] * inv
                channelSum += max(sq[i] * inv - mean * mean, 0).squareRoot()
            }
            total += Double(channelSum)
        }
        return Float(total / Double(channels * hw))
    }

    /// y += x over a whole (contiguous) map.
    private func add(_ x: FeatureMap, into y: FeatureMap) {
        BLAS.axpy(x.channels * x.row, alpha: 1, x: x.data, y: y.data)
    }

    enum Target {
        case constant(Float)
        case labels([Int])
    }

    /// A head (bias-free linear) on the face encoder's output `[E, n, 1, 1]`: returns its loss and
    /// writes dL/d(face-encoder output) to `grad` (`[E, n, 1, 1]`, OVERWRITTEN). The head's weight
    /// gradient is ADDED to `weight.grad`.
    private func head(_ weight: TrainedParameter, _ tape: TrainableStack.Tape, rows: Int, target: Target, grad: FeatureMap) throws -> Float {
        let out = tape.output!, e = out.channels, n = out.batch
        var h = [Float](repeating: 0, count: n * e)
        for b in 0..<n { for i in 0..<e { h[b * e + i] = out.data[i * n + b] } }
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
        for b in 0..<n { for i in 0..<e { grad.data[i * n + b] = dh[b * e + i] } }
        return loss
    }
}
