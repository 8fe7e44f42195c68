/// A voice-encoder pre-training checkpoint: everything needed to continue `avpgan train-voice`
/// bit-identically (docs/model-format.md, "Voice pre-training checkpoints").
///
/// File: safetensors with
/// - the encoder under the model file's names (`voice_encoder.*`, running statistics included)
///   and the speaker head `speaker_head.weight` `[speakers, E]`;
/// - Adam's moments of every trained tensor (all but the running statistics, plus the head):
///   `adam.exp_avg.<name>`, `adam.exp_avg_sq.<name>`;
/// - metadata `avpgan.format`, `avpgan.arch`, `avpgan.config` of an encoder-only model file
///   (`networks: ["voice_encoder"]`), plus `avpgan.voice_checkpoint`: JSON `{"step",
///   "adam_step", "lr", "beta1", "beta2", "eps", "rng", "batches_tracked", "speakers"}`
///   (`rng` the sampler's generator state as a decimal string; `speakers` the training speakers'
///   names in label order, so a resume on another data set is refused).
public struct VoiceTrainingCheckpoint: Sendable {
    public static let metadataKey = "avpgan.voice_checkpoint"
    public static let headName = "speaker_head.weight"

    public var config: ModelConfig
    public var speakers: [String]
    public var tensors: [String: [Float]]
    public var exp_avg: [String: [Float]]
    public var exp_avg_sq: [String: [Float]]
    public var step: Int
    public var adamStep: Int
    /// In Double, as the optimiser uses them (see TrainingCheckpoint).
    public var lr: Double
    public var beta1: Double
    public var beta2: Double
    public var eps: Double
    public var rng: UInt64
    /// torch's BatchNorm `num_batches_tracked` (kept for the record; momentum 0.1 ignores it).
    public var batchesTracked: Int

    public init(config: ModelConfig, speakers: [String], tensors: [String: [Float]], exp_avg: [String: [Float]],
                exp_avg_sq: [String: [Float]], step: Int, adamStep: Int, lr: Double, beta1: Double, beta2: Double,
                eps: Double, rng: UInt64, batchesTracked: Int) {
        self.config = config
        self.speakers = speakers
        self.tensors = tensors
        self.exp_avg = exp_avg
        self.exp_avg_sq = exp_avg_sq
        self.step = step
        self.adamStep = adamStep
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.rng = rng
        self.batchesTracked = batchesTracked
    }

    /// Every tensor of the file but the Adam moments, in file order.
    public static func tensorLayout(_ config: ModelConfig, speakers: Int) -> [(name: String, shape: [Int])] {
        TensorLayout.tensors(for: config) + [(headName, [speakers, config.embedDim])]
    }

    /// The tensors Adam updates: all but BatchNorm's running statistics.
    public static func trainedParameters(_ config: ModelConfig, speakers: Int) -> [(name: String, shape: [Int])] {
        tensorLayout(config, speakers: speakers).filter { !$0.name.hasSuffix(".running_mean") && !$0.name.hasSuffix(".running_var") }
    }

    static func checkConfig(_ config: ModelConfig) throws {
        guard config.networks == [.voiceEncoder] else {
            throw AVPGANError.format("a voice pre-training checkpoint holds the voice encoder only; avpgan.config networks lists \(config.networks.map(\.rawValue))")
        }
    }

    // MARK: Writing

    public func serialize() throws -> [UInt8] {
        try VoiceTrainingCheckpoint.checkConfig(config)
        let count = speakers.count
        var out: [SafetensorsWriter.Tensor] = []
        for (name, shape) in VoiceTrainingCheckpoint.tensorLayout(config, speakers: count) {
            out.append(.init(name: name, shape: shape, floats: try TrainingCheckpoint.values(tensors, name, shape)))
        }
        for (name, shape) in VoiceTrainingCheckpoint.trainedParameters(config, speakers: count) {
            out.append(.init(name: CheckpointValues.firstMomentPrefix + name, shape: shape, floats: try TrainingCheckpoint.values(exp_avg, name, shape)))
            out.append(.init(name: CheckpointValues.secondMomentPrefix + name, shape: shape, floats: try TrainingCheckpoint.values(exp_avg_sq, name, shape)))
        }
        func int(_ i: Int) -> JSONValue { .number(Double(i), integer: Int64(i)) }
        let state = JSONValue.object([
            ("step", int(step)), ("adam_step", int(adamStep)),
            ("lr", .number(lr, integer: nil)), ("beta1", .number(beta1, integer: nil)),
            ("beta2", .number(beta2, integer: nil)), ("eps", .number(eps, integer: nil)),
            ("rng", .string(String(rng))), ("batches_tracked", int(batchesTracked)),
            ("speakers", .array(speakers.map { .string($0) })),
        ])
        return SafetensorsWriter.serialize(out, metadata: config.metadata.merging([VoiceTrainingCheckpoint.metadataKey: state.serialized]) { a, _ in a })
    }

    // MARK: Reading

    public init(bytes: [UInt8]) throws {
        let file = try Safetensors(bytes: bytes)
        let config = try ModelConfig.parse(metadata: file.metadata)
        try VoiceTrainingCheckpoint.checkConfig(config)
        let (state, (tracked, names)) = try CheckpointValues.adamState(
            file, key: VoiceTrainingCheckpoint.metadataKey, missing: "not a voice pre-training checkpoint",
            fields: "step, adam_step, lr, beta1, beta2, eps, rng, batches_tracked or speakers (at least 2)"
        ) { json -> (Int64, [String])? in
            guard let tracked = json["batches_tracked"]?.integerValue, tracked >= 0,
                  let names = json["speakers"]?.arrayValue?.compactMap(\.stringValue), names.count >= 2 else { return nil }
            return (tracked, names)
        }
        let (tensors, m, v) = try CheckpointValues.read(file, layout: VoiceTrainingCheckpoint.tensorLayout(config, speakers: names.count),
                                                        trained: VoiceTrainingCheckpoint.trainedParameters(config, speakers: names.count),
                                                        kind: "a voice pre-training checkpoint")
        self.init(config: config, speakers: names, tensors: tensors, exp_avg: m, exp_avg_sq: v, step: state.step,
                  adamStep: state.adamStep, lr: state.lr, beta1: state.beta1, beta2: state.beta2, eps: state.eps, rng: state.rng,
                  batchesTracked: Int(tracked))
    }

    /// The encoder-only model file of this checkpoint (the head is not part of it).
    public func exportModel() throws -> [UInt8] {
        try ModelFileWriter.serialize(config: config, tensors: tensors.filter { TensorLayout.belongs($0.key, to: .voiceEncoder) },
                                      metadata: ["avpgan.source": "avpgan train-voice, step \(step), \(speakers.count) speakers"])
    }
}
