/// A batch of one enhancer training step: degraded inputs and their truths, NCHW
/// `[count, 3, S, S]` in [-1, 1], and per face its eye and mouth regions (nil: every face is
/// aligned as `FacialComponents.template(size:)` says).
struct EnhancerTrainingBatch {
    var inputs: [Float]
    var truths: [Float]
    var count: Int
    var components: [FacialComponents]?
}

/// One optimisation step of GFPGAN's training loop (upstream `GFPGANModel.optimize_parameters`
/// with train_gfpgan_v1.yml; docs/enhancer-training.md): the generator step on the weighted sum
/// of the losses (a term of weight 0 is skipped, and its network is not needed), the EMA copy
/// of the generator, the face discriminator step (softplus, the lazy R1 penalty every
/// `regEvery` steps), and the three facial-component discriminator steps (vanilla GAN), each
/// network with its Adam (`EnhancerTrainingSettings`). The StyleConvs' noise planes are drawn
/// from the step's seeded generator, per image, so a run is the same bytes at any thread count.
final class EnhancerTrainingStep {
    let config: EnhancerConfig
    let settings: EnhancerTrainingSettings
    /// The generator over `generatorParameters.values` (rebuilt after each update).
    private(set) var generator: EnhancerNetwork
    let generatorParameters: OptimizedParameters
    /// The averaged generator, every tensor of the enhancer layout (the noises copied once).
    let ema: [String: FloatStorage]
    /// The tensors the EMA averages: every parameter (not the stored noises).
    let emaNames: [String]
    /// The face discriminator, when the adversarial term is on.
    let discriminator: StyleGAN2Discriminator?
    let discriminatorParameters: OptimizedParameters?
    /// Left eye, right eye and mouth, when a facial-component term is on.
    let components: [FacialComponentDiscriminator]
    let componentParameters: [OptimizedParameters]
    let imageLosses: EnhancerImageLosses
    /// Steps taken (upstream's `current_iter` of the last one).
    var stepCount = 0
    /// The noise generator's state.
    var rng: SplitMix
    /// Set when a step met a non-finite loss (its log name and value), just before it threw:
    /// the run diverged. After a generator loss nothing changed; after a discriminator's the
    /// generator and its EMA were updated, so the state is to be dropped for the last checkpoint.
    var nonFiniteLoss: (name: String, value: Float)?

    var usesComponents: Bool { settings.losses.isEnabled(.facialComponents) || settings.losses.isEnabled(.componentStyle) }

    // Memory reused from step to step.
    var passes: [EnhancerTrainingPass] = []
    let buffers = Workspace(), styleWorkspace = Workspace()
    let discriminatorPass = DiscriminatorPass(), componentPass = DiscriminatorPass(), componentTruthPass = DiscriminatorPass()
    var discardedDiscriminator: [String: FloatStorage] = [:]
    var discardedComponents: [[String: FloatStorage]] = []
    /// The ranks of a data-parallel run (`distribute`), nil when training alone; its buffer.
    var reducer: GradientReducer?
    let reduction = Workspace()

    /// The networks are taken over (trained in place). `generator`: every tensor of the
    /// enhancer layout by name; `ema`: the averaged copy (nil: a copy of `generator`, as
    /// upstream's `model_ema(0)` at the start). Throws `invalidArgument` when a network that an
    /// enabled term needs is missing or does not fit.
    init(generator tensors: [String: [Float]], config: EnhancerConfig, ema emaTensors: [String: [Float]]? = nil,
         discriminator: StyleGAN2Discriminator?, components: [FacialComponentDiscriminator]?, perceptual: VGG19Features?,
         face: FaceNetwork?, settings: EnhancerTrainingSettings = .init(), seed: UInt64) throws {
        try settings.validate()
        self.config = config
        self.settings = settings
        let layout = EnhancerLayout.tensors(for: config)
        func storages(_ tensors: [String: [Float]], _ what: String) throws -> [String: FloatStorage] {
            try GeneratorStorages.make(tensors, layout: layout, what: what, network: "an enhancer of \(config.outSize) px")
        }
        let values = try storages(tensors, "generator")
        let noises = Set((0..<config.noiseCount).map { "stylegan_decoder.noises.noise\($0)" })
        emaNames = layout.map(\.name).filter { !noises.contains($0) }
        let trained = emaNames.filter { !$0.hasPrefix("toRGB.") }
        generatorParameters = try OptimizedParameters(values: values, trained: trained, lr: settings.generatorLR,
                                                      betas: settings.generatorBetas, eps: settings.eps)
        generator = EnhancerNetwork(weights: EnhancerWeights(storages: values, config: config), config: config)
        ema = try emaTensors.map { try storages($0, "EMA generator") } ?? values.mapValues { try FloatStorage($0.array) }

        if settings.losses.isEnabled(.adversarial) {
            guard let discriminator else {
                throw AVPGANError.invalid("the adversarial loss is on (weight \(settings.losses.adversarial)) but no face discriminator was given, or set its weight to 0")
            }
            guard discriminator.config.size == config.outSize else {
                throw AVPGANError.invalid("the face discriminator takes \(discriminator.config.size) px images, the enhancer makes \(config.outSize) px")
            }
            let d = settings.scaledDiscriminator
            self.discriminator = discriminator
            discriminatorParameters = try OptimizedParameters(values: discriminator.parameters, trained: discriminator.names, lr: d.lr,
                                                              betas: (d.beta1, d.beta2), eps: settings.eps)
            discardedDiscriminator = try discriminator.zeroGradients()
        } else {
            self.discriminator = nil
            discriminatorParameters = nil
        }
        if settings.losses.isEnabled(.facialComponents) || settings.losses.isEnabled(.componentStyle) {
            guard let components, components.count == 3 else {
                throw AVPGANError.invalid("the facial-component losses are on (weights \(settings.losses.facialComponents), style \(settings.losses.componentStyle)) but the three component discriminators (left eye, right eye, mouth) were not given, or set both weights to 0")
            }
            self.components = components
            componentParameters = try components.map {
                try OptimizedParameters(values: $0.parameters, trained: $0.names, lr: settings.componentLR, betas: settings.componentBetas,
                                        eps: settings.eps)
            }
            discardedComponents = try components.map { try $0.zeroGradients() }
        } else {
            self.components = []
            componentParameters = []
        }
        imageLosses = try EnhancerImageLosses(weights: settings.losses, perceptualNetwork: perceptual, faceNetwork: face)
        rng = SplitMix(seed: seed)
    }

    /// Floats of one image's noise planes (all StyleConvs', concatenated in layer order).
    var noiseFloats: Int { (0..<config.noiseCount).reduce(0) { $0 + Self.noiseSide($1) * Self.noiseSide($1) } }

    /// Side of StyleConv i's noise plane (4, 8, 8, 16, 16, ...).
    static func noiseSide(_ i: Int) -> Int { 1 << ((i + 5) / 2) }

    /// One step. `noises` (one `[noiseFloats]` array per image) replaces the drawn noise, for
    /// comparing with a run that drew its own; nil draws them (standard normal). Returns the
    /// losses under upstream's log names (`l_g_pix`, `l_g_gan`, `l_d`, `l_d_r1`, ...). Throws
    /// `invalidArgument`, with nothing changed, for a malformed batch or a non-finite generator
    /// loss; a non-finite discriminator loss throws after the generator's update.
    /// Data-parallel (`distribute`): `batch` and `noises` are the global batch's, the same on
    /// every rank; the rank computes its rows, and the losses returned are the global batch's.
    func step(_ global: EnhancerTrainingBatch, noises given: [[Float]]? = nil) throws -> [String: Float] {
        let size = config.outSize, image = 3 * size * size
        try check(global)
        if let given, given.count != global.count || given.contains(where: { $0.count != noiseFloats }) {
            throw AVPGANError.invalid("the noises must be \(global.count) arrays of \(noiseFloats) floats")
        }
        let mine = try rows(batch: global.count)
        let batch = reducer == nil ? global : global.rows(mine, size: size)
        let n = batch.count, weight = Float(n) / Float(global.count)
        // The planes live in the trainer's workspace: the passes keep pointers to them until the
        // backward. Every rank draws the whole batch's planes and keeps its rows'.
        var drawn = rng, local = [Int?](repeating: nil, count: global.count)
        for (l, r) in mine.enumerated() { local[r] = l }
        let planeFloats = noiseFloats, noises = try buffers.slot(2, count: n * planeFloats)
        for i in 0..<global.count {
            if let given {
                if let l = local[i] { (noises + l * planeFloats).update(from: given[i], count: planeFloats) }
            } else if let l = local[i] {
                for j in 0..<planeFloats { noises[l * planeFloats + j] = drawn.gaussian() }
            } else {
                for _ in 0..<planeFloats { _ = drawn.gaussian() }
            }
        }
        let components = batch.components ?? Array(repeating: FacialComponents.template(size: size), count: n)
        let output = try buffers.slot(0, count: n * image), gradOutput = try buffers.slot(1, count: n * image)
        while passes.count < n { passes.append(EnhancerTrainingPass()) }

        // The generator step (every discriminator frozen).
        var losses: [String: Float] = [:]
        try batch.inputs.withUnsafeBufferPointer { inputs in
            for i in 0..<n {
                var offset = i * planeFloats, pointers: [UnsafePointer<Float>] = []
                for k in 0..<config.noiseCount { pointers.append(UnsafePointer(noises + offset)); offset += Self.noiseSide(k) * Self.noiseSide(k) }
                try generator.trainingForward(inputs.baseAddress! + i * image, noises: pointers, pass: passes[i], into: output + i * image)
            }
        }
        let crops = usesComponents ? try ComponentCrops(output: output, truths: batch.truths, batch: n, size: size, components: components,
                                                        workspace: buffers) : nil
        try batch.truths.withUnsafeBufferPointer { truths in
            let image = try imageLosses.evaluate(output: output, truth: truths.baseAddress!, batch: n, size: size, gradOutput: gradOutput)
            for (term, value) in image { losses[term.logName] = value }
        }
        if let discriminator {
            losses["l_g_gan"] = try adversarialGradient(discriminator, output: output, batch: n, into: gradOutput)
        }
        if let crops {
            for (name, value) in try componentGradients(crops, into: gradOutput) { losses[name] = value }
        }
        generatorParameters.zeroGradients()
        for i in 0..<n {
            try generator.trainingBackward(passes[i], gradOutput: gradOutput + i * image, gradients: generatorParameters.gradients)
        }
        try reduceAcrossRanks(generatorParameters, losses: &losses, weight: weight)
        if let bad = losses.first(where: { !$0.value.isFinite }) {
            nonFiniteLoss = (bad.key, bad.value)
            throw AVPGANError.invalid("step \(stepCount + 1): the generator loss \(bad.key) is \(bad.value); nothing was updated")
        }
        stepCount += 1
        rng = drawn
        generatorParameters.update()
        generator = EnhancerNetwork(weights: EnhancerWeights(storages: generatorParameters.values, config: config), config: config)
        ExponentialMovingAverage.update(ema, toward: generatorParameters.values, names: emaNames, decay: settings.emaDecay)

        // The discriminators' steps, on the output before the generator's update.
        if let discriminator, let parameters = discriminatorParameters {
            for (name, value) in try discriminatorStep(discriminator, parameters, output: output, truths: batch.truths, batch: n,
                                                       weight: weight) {
                losses[name] = value
            }
        }
        if let crops {
            for (name, value) in try componentDiscriminatorSteps(crops, weight: weight) { losses[name] = value }
        }
        return losses
    }

    /// Throws `invalidArgument` naming what is wrong with `batch`.
    private func check(_ batch: EnhancerTrainingBatch) throws {
        let n = batch.count, size = config.outSize, count = n * 3 * size * size
        guard n > 0 else { throw AVPGANError.invalid("a training batch needs at least one face") }
        guard batch.inputs.count == count, batch.truths.count == count else {
            throw AVPGANError.invalid("a batch of \(n) needs inputs and truths of [\(n), 3, \(size), \(size)] (\(count) floats), not \(batch.inputs.count) and \(batch.truths.count)")
        }
        for (name, values) in [("input", batch.inputs), ("truth", batch.truths)] {
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw AVPGANError.invalid("face \(bad / (3 * size * size)): its \(name) holds a non-finite value")
            }
        }
        if let discriminator, MinibatchStddev.groupSize(batch: n, group: discriminator.config.stddevGroup) == nil {
            throw AVPGANError.invalid("a batch of \(n) does not divide into the face discriminator's groups of min(\(n), \(discriminator.config.stddevGroup))")
        }
        if let components = batch.components {
            guard components.count == n else { throw AVPGANError.invalid("the batch has \(n) faces but \(components.count) sets of landmarks") }
            for (i, c) in components.enumerated() { try c.validate(size: size, image: i) }
        }
    }
}
