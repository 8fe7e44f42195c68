/// A training checkpoint: everything needed to continue Algorithm 1 bit-identically.
///
/// File: safetensors (docs/model-format.md framing) with
/// - the five networks under the model file's names with `spectral_norm: "stored"` (so the
///   power-iteration vectors `weight_u`/`weight_v` are kept): `voice_encoder.*`, `generator.*`,
///   `face_encoder.*`, `discriminator.*`, `classifier.*`;
/// - Adam's moments of every trained parameter (generator, face encoder, heads):
///   `adam.exp_avg.<name>` and `adam.exp_avg_sq.<name>`, same shapes;
/// - metadata `avpgan.format`, `avpgan.arch`, `avpgan.config` as a model file, plus
///   `avpgan.checkpoint`: JSON `{"step", "adam_step", "lr", "beta1", "beta2", "eps", "rng", "health"}`
///   (`rng` the sampler's generator state as a decimal string, so no precision is lost;
///   `health` the `TrainingHealth` state and its warnings, optional).
/// The reader checks the tensor set and shapes as the model reader does.
public struct TrainingCheckpoint: Sendable {
    public static let metadataKey = "avpgan.checkpoint"
    public var config: ModelConfig
    public var tensors: [String: [Float]]
    public var exp_avg: [String: [Float]]
    public var exp_avg_sq: [String: [Float]]
    public var step: Int
    public var adamStep: Int
    /// Adam's hyper-parameters, in Double as the optimiser uses them (a Float round trip
    /// would change 2e-4 and 0.999 and break bit-identical resumption).
    public var lr: Double = 2e-4
    public var beta1: Double = 0.5
    public var beta2: Double = 0.999
    public var eps: Double = 1e-8
    public var rng: UInt64
    /// The run's health monitor (`avpgan.checkpoint` field `health`; fresh when absent, as in
    /// checkpoints written before it existed and those tools/converters/convert_torch.py writes).
    public var health = TrainingHealth()

    public static let trainedNetworks: [NetworkName] = [.generator, .faceEncoder, .discriminator, .classifier]

    public init(config: ModelConfig, tensors: [String: [Float]], exp_avg: [String: [Float]], exp_avg_sq: [String: [Float]],
                step: Int, adamStep: Int, rng: UInt64) {
        self.config = config
        self.tensors = tensors
        self.exp_avg = exp_avg
        self.exp_avg_sq = exp_avg_sq
        self.step = step
        self.adamStep = adamStep
        self.rng = rng
    }

    /// Names of the trained parameters (those Adam updates): every tensor of the trained
    /// networks except spectral norm's `weight_u`/`weight_v` buffers.
    public static func trainedParameters(_ config: ModelConfig) -> [(name: String, shape: [Int])] {
        TensorLayout.tensors(for: config).filter { t in
            trainedNetworks.contains { TensorLayout.belongs(t.name, to: $0) } && !t.name.hasSuffix(".weight_u") && !t.name.hasSuffix(".weight_v")
        }
    }

    static func checkConfig(_ config: ModelConfig) throws {
        guard config.networks == NetworkName.allCases else {
            throw AVPGANError.format("a checkpoint holds all five networks; avpgan.config networks lists \(config.networks.map(\.rawValue))")
        }
        guard config.spectralNorm != .folded else {
            throw AVPGANError.format("a checkpoint keeps spectral norm's weight_orig/weight_u/weight_v (spectral_norm \"stored\")")
        }
    }

    // MARK: Writing

    public func serialize() throws -> [UInt8] {
        try TrainingCheckpoint.checkConfig(config)
        var out: [SafetensorsWriter.Tensor] = []
        for (name, shape) in TensorLayout.tensors(for: config) {
            out.append(.init(name: name, shape: shape, floats: try TrainingCheckpoint.values(tensors, name, shape)))
        }
        for (name, shape) in TrainingCheckpoint.trainedParameters(config) {
            out.append(.init(name: CheckpointValues.firstMomentPrefix + name, shape: shape, floats: try TrainingCheckpoint.values(exp_avg, name, shape)))
            out.append(.init(name: CheckpointValues.secondMomentPrefix + name, shape: shape, floats: try TrainingCheckpoint.values(exp_avg_sq, name, shape)))
        }
        let state = JSONValue.object([
            ("step", .number(Double(step), integer: Int64(step))),
            ("adam_step", .number(Double(adamStep), integer: Int64(adamStep))),
            ("lr", .number(lr, integer: nil)), ("beta1", .number(beta1, integer: nil)),
            ("beta2", .number(beta2, integer: nil)), ("eps", .number(eps, integer: nil)),
            ("rng", .string(String(rng))),
            ("health", health.json),
        ])
        return SafetensorsWriter.serialize(out, metadata: config.metadata.merging([TrainingCheckpoint.metadataKey: state.serialized]) { a, _ in a })
    }

    /// `map[name]`, checked to hold `shape`'s count of values (both checkpoint kinds use it).
    static func values(_ map: [String: [Float]], _ name: String, _ shape: [Int]) throws -> [Float] {
        guard let v = map[name] else { throw AVPGANError.invalid("checkpoint tensor \(name) is missing") }
        guard v.count == shape.reduce(1, *) else {
            throw AVPGANError.invalid("checkpoint tensor \(name) has \(v.count) values; shape \(shape) needs \(shape.reduce(1, *))")
        }
        return v
    }

    // MARK: Reading

    public init(bytes: [UInt8]) throws {
        let file = try Safetensors(bytes: bytes)
        let config = try ModelConfig.parse(metadata: file.metadata)
        try TrainingCheckpoint.checkConfig(config)
        let (state, _) = try CheckpointValues.adamState(
            file, key: TrainingCheckpoint.metadataKey,
            missing: "not a training checkpoint (a trainer's save, avpgan train and tools/converters/convert_torch.py --training write one)",
            fields: "step, adam_step, lr, beta1, beta2, eps or rng") { _ in () }
        let (tensors, m, v) = try CheckpointValues.read(file, layout: TensorLayout.tensors(for: config),
                                                        trained: TrainingCheckpoint.trainedParameters(config),
                                                        kind: "an \(config.arch.rawValue) checkpoint")
        self.init(config: config, tensors: tensors, exp_avg: m, exp_avg_sq: v, step: state.step, adamStep: state.adamStep, rng: state.rng)
        (lr, beta1, beta2, eps) = (state.lr, state.beta1, state.beta2, state.eps)
        if let h = state.json["health"] { health = try TrainingHealth(json: h) }
    }

    /// The inference model file of this checkpoint: voice encoder and generator, spectral norm
    /// folded as torch's eval mode does (`weight_orig / (u · (W v))` with the stored u, v).
    public func exportModel() throws -> [UInt8] {
        var exported = config
        exported.networks = [.voiceEncoder, .generator]
        exported.faceWidths = []
        exported.identities = 0
        if exported.arch.hasSpectralNorm { exported.spectralNorm = .folded }
        var out: [String: [Float]] = [:]
        for (name, shape) in TensorLayout.tensors(for: exported) {
            if let v = tensors[name] { out[name] = v; continue }
            // A folded spectrally normalised weight: compute it from the stored triple.
            let prefix = String(name.dropLast(".weight".count))
            guard let w = tensors["\(prefix).weight_orig"], let u = tensors["\(prefix).weight_u"], let vv = tensors["\(prefix).weight_v"] else {
                throw AVPGANError(.internal, "checkpoint lacks \(prefix).weight_orig/_u/_v")
            }
            out[name] = try SpectralNorm.effectiveWeight(w, shape: shape, dim: TensorLayout.belongs(name, to: .generator) ? 1 : 0, u: u, v: vv, name: name)
        }
        return try ModelFileWriter.serialize(config: exported, tensors: out, metadata: ["avpgan.source": "exported from a training checkpoint at step \(step)"])
    }
}
