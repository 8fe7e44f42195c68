/// A face-prior file (docs/enhancer-format.md, "Face prior files"): a safetensors file with
/// exactly upstream StyleGAN2GeneratorClean's state_dict (`PriorConfig.tensors`: the names and
/// shapes GFPGANv1Clean's `stylegan_decoder` loads from `params_ema`, the stored noises
/// included), float32, and the `avpgan.*` metadata: format, `avpgan.arch`
/// "stylegan2-clean-prior" and in `avpgan.config` the constructor arguments (`kind` "prior",
/// `out_size`, `num_style_feat`, `num_mlp`, `channel_multiplier`, `narrow`).
public enum PriorFile {
    public static let archName = "stylegan2-clean-prior"

    /// The `avpgan.*` metadata of a prior of `config`.
    static func metadata(_ config: PriorConfig) -> [String: String] {
        func int(_ v: Int) -> JSONValue { .number(Double(v), integer: Int64(v)) }
        let fields: [(String, JSONValue)] = [
            ("kind", .string("prior")), ("out_size", int(config.outSize)), ("num_style_feat", int(config.styleDim)),
            ("num_mlp", int(config.mlpLayers)), ("channel_multiplier", .number(config.channelMultiplier, integer: nil)),
            ("narrow", .number(config.narrow, integer: nil)),
        ]
        return ["avpgan.format": String(ModelConfig.formatVersion), "avpgan.arch": archName,
                "avpgan.config": JSONValue.object(fields).serialized]
    }

    /// Reads and checks the `avpgan.*` metadata of a prior file (`modelFormat` naming the field).
    static func parse(metadata: [String: String]) throws -> PriorConfig {
        try FileMetadata.checkFormat(metadata)
        let arch = try FileMetadata.arch(metadata)
        guard arch == archName else {
            throw AVPGANError.format("metadata avpgan.arch is \"\(arch)\", not \"\(archName)\" (a face prior)")
        }
        let json = try FileMetadata.config(metadata)
        guard json["kind"]?.stringValue == "prior" else {
            throw AVPGANError.format("avpgan.config field kind is \(json["kind"]?.serialized ?? "missing"), expected \"prior\"")
        }
        func number(_ name: String) throws -> Double {
            let v = try json.field(name)
            guard let d = v.doubleValue, d.isFinite, d > 0, d <= 64 else {
                throw AVPGANError.format("avpgan.config field \(name) is \(v.serialized), expected a number in (0, 64]")
            }
            return d
        }
        let config = PriorConfig(outSize: try json.integer("out_size", EnhancerConfig.sizeRange),
                                 styleDim: try json.integer("num_style_feat", 1...4096), mlpLayers: try json.integer("num_mlp", 1...64),
                                 channelMultiplier: try number("channel_multiplier"), narrow: try number("narrow"))
        do { try config.validate() } catch let e as AVPGANError { throw AVPGANError.format("avpgan.config: \(e.message)") }
        return config
    }

    /// The bytes of a prior file holding `values` (every tensor of `config.tensors`).
    static func serialize(_ values: [String: FloatStorage], config: PriorConfig) -> [UInt8] {
        let tensors = config.tensors.map { SafetensorsWriter.Tensor(name: $0.name, shape: $0.shape, floats: values[$0.name]!.array) }
        return SafetensorsWriter.serialize(tensors, metadata: metadata(config))
    }

    /// A prior file's config and tensors, through the checked reader: exactly the layout its
    /// metadata implies, every value finite. Throws `modelFormat` naming what is wrong.
    public static func read(bytes: [UInt8]) throws -> (config: PriorConfig, tensors: [String: [Float]]) {
        let file = try Safetensors(bytes: bytes)
        let config = try parse(metadata: file.metadata)
        let checked = try CheckedTensors(file: file, expected: config.tensors,
                                         missing: "a prior of \(config.outSize) px with num_mlp \(config.mlpLayers)",
                                         extra: "a prior of \(config.outSize) px with num_mlp \(config.mlpLayers)")
        var tensors: [String: [Float]] = [:]
        for t in config.tensors { tensors[t.name] = try checked.floats(t.name) }
        return (config, tensors)
    }

    public static func read(path: String) throws -> (config: PriorConfig, tensors: [String: [Float]]) {
        try read(bytes: try FileIO.read(path))
    }
}

extension PriorTrainingStep {
    /// The prior file of the EMA generator (what GFPGAN loads as `params_ema`).
    func priorFile() -> [UInt8] { PriorFile.serialize(ema, config: config) }
}
