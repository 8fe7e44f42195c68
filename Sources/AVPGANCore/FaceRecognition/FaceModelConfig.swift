/// The face-recognition networks a face model file can hold (docs/face-model-format.md). The
/// IResNets differ only in their blocks per stage, so each is one line of configuration.
public enum FaceArchitecture: String, CaseIterable, Sendable {
    case mobileFaceNet = "mobilefacenet"
    case iresnet18, iresnet34, iresnet50, iresnet100, iresnet200

    /// Blocks in each of the four IResNet stages; nil for MobileFaceNet.
    var iresnetBlocks: [Int]? {
        switch self {
        case .mobileFaceNet: return nil
        case .iresnet18: return [2, 2, 2, 2]
        case .iresnet34: return [3, 4, 6, 3]
        case .iresnet50: return [3, 4, 14, 3]
        case .iresnet100: return [3, 13, 30, 3]
        case .iresnet200: return [6, 26, 60, 6]
        }
    }
}

/// How a face model file stores its BatchNorms (docs/face-model-format.md).
public enum FaceBatchNormStorage: String, Sendable {
    /// Every BatchNorm has its own tensors.
    case stored
    /// Each BatchNorm that follows a convolution or the linear layer is folded into it.
    case folded
}

/// The `avpgan.*` metadata of a face model file: which network, its input and embedding.
public struct FaceModelConfig: Equatable, Sendable {
    public static let inputSizeRange = 16...1024

    public var arch: FaceArchitecture
    public var inputSize: Int
    public var embedDim: Int
    public var inputMean: Float
    public var inputStd: Float
    /// The network's first input plane is blue (`channel_order: "bgr"`).
    public var bgr: Bool
    public var batchNorm: FaceBatchNormStorage
    public var batchNormEps: Float

    public init(arch: FaceArchitecture, inputSize: Int = 112, embedDim: Int? = nil, inputMean: Float = 127.5,
                inputStd: Float? = nil, bgr: Bool = false, batchNorm: FaceBatchNormStorage = .stored, batchNormEps: Float = 1e-5) {
        self.arch = arch
        self.inputSize = inputSize
        self.embedDim = embedDim ?? (arch == .mobileFaceNet ? 128 : 512)
        self.inputMean = inputMean
        self.inputStd = inputStd ?? (arch == .mobileFaceNet ? 128 : 127.5)
        self.bgr = bgr
        self.batchNorm = batchNorm
        self.batchNormEps = batchNormEps
    }

    /// Whether `metadata` names a face-recognition architecture (so a voice-model loader can
    /// point its caller to the face-model loader).
    /// Reads and checks the `avpgan.*` metadata of a face model file.
    public static func parse(metadata: [String: String]) throws -> FaceModelConfig {
        try FileMetadata.checkFormat(metadata)
        let archName = try FileMetadata.arch(metadata)
        guard let arch = FaceArchitecture(rawValue: archName) else {
            throw FileMetadata.wrongKind(arch: archName, expected: .faceModel, unknown:
                "metadata avpgan.arch \"\(archName)\" is not one of \(FaceArchitecture.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let json = try FileMetadata.config(metadata)
        let field = json.field, integer = json.integer
        func number(_ name: String, _ valid: (Double) -> Bool, _ expected: String) throws -> Float {
            let v = try field(name)
            guard let d = v.doubleValue, d.isFinite, valid(d) else {
                throw AVPGANError.format("avpgan.config field \(name) is \(v.serialized), expected \(expected)")
            }
            return Float(d)
        }
        func choice(_ name: String, _ options: [String], default value: String? = nil) throws -> String {
            guard let v = json[name] ?? value.map(JSONValue.string) else { throw AVPGANError.format("avpgan.config field \(name) is missing") }
            guard let s = v.stringValue, options.contains(s) else {
                throw AVPGANError.format("avpgan.config field \(name) is \(v.serialized), expected one of \(options.map { "\"\($0)\"" }.joined(separator: ", "))")
            }
            return s
        }
        _ = try choice("kind", ["face"])
        let size = try integer("input_size", inputSizeRange)
        // Both networks reduce their input by 16 (IResNet, to the 7x7 of its linear layer for
        // 112) or by 16 to a 7x7 global depthwise kernel (MobileFaceNet): 112 is what they take.
        guard size == 112 else {
            throw AVPGANError(.unsupported, "avpgan.config field input_size is \(size); \(arch.rawValue) is defined for 112x112 inputs")
        }
        let config = FaceModelConfig(
            arch: arch, inputSize: size, embedDim: try integer("embed_dim", 1...ModelConfig.maxWidth),
            inputMean: try number("input_mean", { abs($0) <= 1e6 }, "a number"),
            inputStd: try number("input_std", { $0 > 0 && $0 <= 1e6 }, "a positive number"),
            bgr: try choice("channel_order", ["rgb", "bgr"], default: "rgb") == "bgr",
            batchNorm: FaceBatchNormStorage(rawValue: try choice("batch_norm", ["stored", "folded"]))!,
            batchNormEps: json["batch_norm_eps"] == nil ? 1e-5 : try number("batch_norm_eps", { $0 > 0 && $0 < 1 }, "a number in (0, 1)"))
        return config
    }

    /// The `avpgan.*` metadata that describes this config.
    public var metadata: [String: String] {
        let fields: [(String, JSONValue)] = [
            ("kind", .string("face")),
            ("input_size", .number(Double(inputSize), integer: Int64(inputSize))),
            ("embed_dim", .number(Double(embedDim), integer: Int64(embedDim))),
            ("input_mean", .number(Double(inputMean), integer: nil)),
            ("input_std", .number(Double(inputStd), integer: nil)),
            ("channel_order", .string(bgr ? "bgr" : "rgb")),
            ("batch_norm", .string(batchNorm.rawValue)),
            ("batch_norm_eps", .number(Double(batchNormEps), integer: nil)),
        ]
        return ["avpgan.format": String(ModelConfig.formatVersion), "avpgan.arch": arch.rawValue,
                "avpgan.config": JSONValue.object(fields).serialized]
    }
}
