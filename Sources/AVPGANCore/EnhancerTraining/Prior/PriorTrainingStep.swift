/// The random inputs of one generator pass of a step: the styles (z and style mixing) and
/// every image's noise planes `[N, noiseFloats]` (upstream's `randomize_noise`).
struct PriorDraw {
    var styles: PriorStyles
    var noises: [Float]
}

/// One iteration of basicsr's `StyleGAN2Model.optimize_parameters` (settings:
/// `PriorTrainingSettings`; docs/enhancer-training.md, "The face prior"): the discriminator
/// step on a fresh fake batch and the real one (softplus losses, the lazy R1 penalty), then
/// the generator step on another fresh fake batch (non-saturating softplus), Adam for each and
/// the EMA of the generator. Every random number (mixing, z, injection index, noise planes)
/// comes from the step's seeded generator, so a run is the same bytes at any thread count.
final class PriorTrainingStep {
    let config: PriorConfig
    let settings: PriorTrainingSettings
    /// The generator over `generatorParameters.values` (rebuilt after each update).
    private(set) var generator: PriorNetwork
    let generatorParameters: OptimizedParameters
    /// The averaged generator: every tensor of the prior layout (its stored noises are kept as
    /// they started: upstream averages parameters only).
    let ema: [String: FloatStorage]
    let discriminator: StyleGAN2Discriminator
    let discriminatorParameters: OptimizedParameters
    /// Steps taken (upstream's `current_iter` of the last one).
    var stepCount = 0
    var rng: SplitMix
    /// The path-length term's running mean (upstream's `mean_path_length`).
    var meanPathLength: Float = 0
    /// The loss that made the last `step` throw when it was not finite (nil otherwise): a
    /// session tells divergence from a malformed batch by it.
    var nonFiniteLoss: (name: String, value: Float)?

    let pass = PriorTrainingPass(), discriminatorPass = DiscriminatorPass(), buffers = Workspace()
    private var discarded: [String: FloatStorage] = [:]
    /// The ranks of a data-parallel run (`distribute`), nil when training alone; its buffer.
    var reducer: GradientReducer?
    let reduction = Workspace()

    /// The networks are taken over (trained in place). `generator`: every tensor of
    /// `config.tensors` by name (noises included); `ema`: the averaged copy (nil: a copy of
    /// `generator`, as upstream's `model_ema(0)`). Throws `invalidArgument` naming what does not fit.
    init(generator tensors: [String: [Float]], config: PriorConfig, ema emaTensors: [String: [Float]]? = nil,
         discriminator: StyleGAN2Discriminator, settings: PriorTrainingSettings = .init(), seed: UInt64) throws {
        try settings.validate()
        try config.validate()
        guard discriminator.config.size == config.outSize else {
            throw AVPGANError.invalid("the discriminator takes \(discriminator.config.size) px images, the prior makes \(config.outSize) px")
        }
        self.config = config
        self.settings = settings
        func storages(_ tensors: [String: [Float]], _ what: String) throws -> [String: FloatStorage] {
            try GeneratorStorages.make(tensors, layout: config.tensors, what: what, network: "a prior of \(config.outSize) px with num_mlp \(config.mlpLayers)")
        }
        let values = try storages(tensors, "generator")
        generator = try PriorNetwork(values: values, config: config)
        let (b1, b2) = settings.generatorBetas
        generatorParameters = try OptimizedParameters(values: values, trained: generator.parameterNames, lr: settings.generatorLR,
                                                      betas: (b1, b2), eps: settings.eps)
        ema = try emaTensors.map { try storages($0, "EMA generator") } ?? values.mapValues { try FloatStorage($0.array) }
        self.discriminator = discriminator
        discriminatorParameters = try OptimizedParameters(values: discriminator.parameters, trained: discriminator.names,
                                                          lr: settings.discriminatorLR, betas: settings.discriminatorBetas, eps: settings.eps)
        discarded = try discriminator.zeroGradients()
        rng = SplitMix(seed: seed)
    }

    /// A draw for `n` images from `rng`: mixing with `mixingProb`, z standard normal, the
    /// injection index uniform in 1..<latentCount, the noise planes standard normal.
    func draw(batch n: Int, from rng: inout SplitMix) -> PriorDraw {
        let s = config.styleDim, mixing = Double(rng.unit()) < settings.mixingProb, v = mixing ? 2 : 1
        let z = (0..<(v * n * s)).map { _ in rng.gaussian() }
        let inject = mixing ? 1 + Int(rng.next() % UInt64(config.latentCount - 1)) : nil
        let noises = (0..<(n * config.noiseFloats)).map { _ in rng.gaussian() }
        return PriorDraw(styles: PriorStyles(z: z, vectors: v, injectIndex: inject), noises: noises)
    }

    /// One step on `real` images `[N, 3, S, S]` in [-1, 1]. `draws` replaces the two drawn
    /// passes (the discriminator's, then the generator's), for comparing with a run that drew
    /// its own, and `pathDraw` the path-length term's batch and image noise `[n, 3, S, S]`.
    /// Returns upstream's log names: `l_d`, `real_score`, `fake_score`, `l_d_r1` (at an R1
    /// step), `l_g`, `l_g_path` and `path_length` (at a path-length step). Throws `invalidArgument` with nothing changed for a malformed
    /// batch or a non-finite discriminator loss; a non-finite generator loss throws after the
    /// discriminator's update, with the generator, its EMA and the step count unchanged.
    /// Data-parallel (`distribute`): `real`, `draws` and `pathDraw` are the global batch's, the
    /// same on every rank; the rank computes its rows, and the losses returned are the batch's.
    func step(real global: [Float], batch n: Int, draws given: (discriminator: PriorDraw, generator: PriorDraw)? = nil,
              pathDraw givenPath: (draw: PriorDraw, y: [Float])? = nil) throws -> [String: Float] {
        let size = config.outSize, image = 3 * size * size
        guard n > 0, global.count == n * image else {
            throw AVPGANError.invalid("a batch of \(n) real faces needs [\(n), 3, \(size), \(size)] (\(n * image) floats), not \(global.count)")
        }
        if let bad = global.firstIndex(where: { !$0.isFinite }) {
            throw AVPGANError.invalid("real face \(bad / image) holds a non-finite value")
        }
        guard MinibatchStddev.groupSize(batch: n, group: discriminator.config.stddevGroup) != nil else {
            throw AVPGANError.invalid("a batch of \(n) does not divide into the discriminator's groups of min(\(n), \(discriminator.config.stddevGroup))")
        }
        var drawn = rng
        let draws = given ?? (draw(batch: n, from: &drawn), draw(batch: n, from: &drawn))
        for d in [draws.discriminator, draws.generator] where d.noises.count != n * config.noiseFloats {
            throw AVPGANError.invalid("the noise planes of a batch of \(n) are \(n * config.noiseFloats) floats, not \(d.noises.count)")
        }
        let mine = try rows(batch: n), local = mine.count, share = Float(local) / Float(n)
        func ownRows(_ d: PriorDraw) -> PriorDraw { d.rows(mine, batch: n, styleDim: config.styleDim, noiseFloats: config.noiseFloats) }
        let real = global.images(mine, image: image)
        let iteration = stepCount + 1
        nonFiniteLoss = nil
        let fake = try buffers.slot(0, count: local * image), gradFake = try buffers.slot(1, count: local * image)

        // The discriminator's step.
        try fakeImages(ownRows(draws.discriminator), batch: local, into: fake)
        let d = discriminator
        let r1Weight = iteration % settings.dRegEvery == 0 ? settings.r1StepWeight : nil
        var losses = try softplusStep(d, discriminatorParameters, fake: fake, real: real, batch: local, r1Weight: r1Weight, weight: share,
                                      step: iteration, what: "discriminator", untouched: "nothing was updated")

        // The generator's step, the discriminator frozen: its adversarial part is this rank's
        // share of the batch's mean; the path-length term's is each image's own.
        try fakeImages(ownRows(draws.generator), batch: local, into: fake)
        let scores = try d.forward(fake, batch: local, pass: discriminatorPass)
        var gradScores = [Float](repeating: 0, count: local)
        var generatorLoss = ["l_g": AdversarialLoss.evaluate(logits: scores, count: local, kind: .softplus, targetIsReal: true, weight: share,
                                                             gradLogits: &gradScores)]
        for g in discarded.values { g.pointer.update(repeating: 0, count: g.count) }
        try d.backward(discriminatorPass, gradScores: gradScores, gradients: discarded, gradImages: gradFake)
        generatorParameters.zeroGradients()
        try generator.trainingBackward(pass, gradImages: gradFake, gradients: generatorParameters.gradients)
        var pathMean = meanPathLength, path: (loss: Float, pathLength: Float, mean: Float)?
        if settings.pathRegWeight > 0, iteration % settings.gRegEvery == 0 {
            let m = max(1, n / settings.pathBatchShrink)
            let batch = givenPath ?? (draw(batch: m, from: &drawn), (0..<(m * image)).map { _ in drawn.gaussian() / Float(size) })
            guard batch.y.count == m * image, batch.draw.noises.count == m * config.noiseFloats else {
                throw AVPGANError.invalid("the path-length batch of \(m) needs \(m * image) noise values and \(m * config.noiseFloats) plane values")
            }
            let own = pathRows(batch: m)
            path = try pathLengthTerm(batch.draw.rows(own, batch: m, styleDim: config.styleDim, noiseFloats: config.noiseFloats),
                                      batch: own.count, of: m, y: batch.y.images(own, image: image))
        }
        try reduceAcrossRanks(generatorParameters, losses: &generatorLoss, weight: 1)
        guard let l = generatorLoss["l_g"], l.isFinite else {
            nonFiniteLoss = ("l_g", generatorLoss["l_g"]!)
            throw AVPGANError.invalid("step \(iteration): the generator loss l_g is \(generatorLoss["l_g"]!); the discriminator was updated, the generator not")
        }
        losses["l_g"] = l
        if let term = path {
            guard term.loss.isFinite, term.pathLength.isFinite else {
                nonFiniteLoss = ("l_g_path", term.loss)
                throw AVPGANError.invalid("step \(iteration): the path-length term is \(term.loss); the discriminator was updated, the generator not")
            }
            (losses["l_g_path"], losses["path_length"], pathMean) = (term.loss, term.pathLength, term.mean)
        }
        generatorParameters.update()
        generator = try PriorNetwork(values: generatorParameters.values, config: config)
        ExponentialMovingAverage.update(ema, toward: generatorParameters.values, names: generatorParameters.trained, decay: settings.emaDecay)
        stepCount = iteration
        rng = drawn
        meanPathLength = pathMean
        return losses
    }

    /// The generator's images for `draw`, recorded in `pass`.
    private func fakeImages(_ draw: PriorDraw, batch n: Int, into images: UnsafeMutablePointer<Float>) throws {
        try draw.noises.withUnsafeBufferPointer { noises in
            // The planes must outlive the pass's record: keep them in the trainer's workspace.
            let planes = try buffers.slot(2, count: noises.count)
            planes.update(from: noises.baseAddress!, count: noises.count)
            try generator.trainingForward(styles: draw.styles, batch: n, noises: planes, pass: pass, into: images)
        }
    }
}
