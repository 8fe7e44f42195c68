/// Everything `avpgan.config` and the other `avpgan.*` metadata say; the single description
/// of a model's shape from which every expected tensor name and shape follows.
public struct ModelConfig: Equatable, Sendable {
    public static let formatVersion = 1
    public static let maxLayers = 16
    public static let maxWidth = 1 << 16
    public static let maxImageSize = 1024

    public var arch: Architecture
    public var networks: [NetworkName]
    public var nMels: Int
    public var embedDim: Int
    public var voiceWidths: [Int]
    public var generatorWidths: [Int]
    public var imageSize: Int
    public var faceWidths: [Int]
    public var identities: Int
    public var spectralNorm: SpectralNormStorage
    /// Whether the generator's stride-2 layers are spectrally normalised too (the reference's
    /// avpgan and avpgan-nocbam: yes). False: spectral norm on the face encoder only, the
    /// training recipe of docs/training-design.md "Why avpgan collapsed". Meaningless (true)
    /// without spectral norm. `avpgan.config` field `generator_spectral_norm`, written only
    /// when false.
    public var generatorSpectralNorm: Bool = true
    /// Whether the generator's blocks 2-5 end in CBAM too (the reference's avpgan: yes). False:
    /// CBAM in the face encoder only, the training recipe of docs/training-design.md "Why avpgan
    /// collapsed". Meaningless (true) without CBAM. `avpgan.config` field `generator_cbam`,
    /// written only when false.
    public var generatorCBAM: Bool = true
    public var pixels: PixelMapping
    public var cbamReduction: Int
    /// How every CBAM's attention maps multiply (`CBAMGate`; the reference's: `sigmoid`).
    /// Meaningless (sigmoid) without CBAM. `avpgan.config` field `cbam_gate`, written only when
    /// not `sigmoid`, so files without it load as the reference's CBAM.
    public var cbamGate: CBAMGate = .sigmoid
    public var cbamKernel: Int
    public var batchNormEps: Float

    public init(arch: Architecture, networks: [NetworkName] = [.voiceEncoder, .generator], nMels: Int = LogMelExtractor.bands, embedDim: Int,
                voiceWidths: [Int], generatorWidths: [Int], faceWidths: [Int] = [], identities: Int = 0,
                spectralNorm: SpectralNormStorage? = nil, pixels: PixelMapping = .clamp,
                cbamReduction: Int = 16, cbamKernel: Int = 7, batchNormEps: Float = 1e-5) {
        self.arch = arch
        self.networks = networks
        self.nMels = nMels
        self.embedDim = embedDim
        self.voiceWidths = voiceWidths
        self.generatorWidths = generatorWidths
        self.imageSize = networks.contains(.generator) && !generatorWidths.isEmpty ? 4 << (generatorWidths.count - 1) : 0
        self.faceWidths = faceWidths
        self.identities = identities
        self.spectralNorm = spectralNorm ?? (arch.hasSpectralNorm ? .folded : .none)
        self.pixels = pixels
        self.cbamReduction = cbamReduction
        self.cbamKernel = cbamKernel
        self.batchNormEps = batchNormEps
    }

    public func has(_ network: NetworkName) -> Bool { networks.contains(network) }

    /// Whether `network`'s conv stack (generator or face encoder) has CBAM after blocks 2-5.
    public func hasCBAM(_ network: NetworkName) -> Bool { arch.hasCBAM && (network != .generator || generatorCBAM) }

    /// Whether layer `layer` of `network`'s conv stack (generator or face encoder; `last`: the
    /// final layer) is spectrally normalised: the stride-2 layers 2-5 of both networks when the
    /// architecture has spectral norm, except the generator's when `generatorSpectralNorm` is
    /// false.
    public func spectrallyNormalised(_ network: NetworkName, layer: Int, last: Bool) -> Bool {
        guard arch.hasSpectralNorm, layer > 0, !last else { return false }
        return network != .generator || generatorSpectralNorm
    }

    /// The config of an encoder-only file (`networks: ["voice_encoder"]`, as `avpgan train-voice`
    /// writes): no generator, so `generatorWidths` is empty and `imageSize` 0. The architecture
    /// only names a family; the voice encoder is the same in all three.
    public static func voiceEncoderOnly(arch: Architecture = .voice2face, nMels: Int = LogMelExtractor.bands, embedDim: Int, voiceWidths: [Int],
                                        batchNormEps: Float = 1e-5) -> ModelConfig {
        ModelConfig(arch: arch, networks: [.voiceEncoder], nMels: nMels, embedDim: embedDim, voiceWidths: voiceWidths,
                    generatorWidths: [], batchNormEps: batchNormEps)
    }

    // MARK: Reading

    /// Reads and checks the `avpgan.*` metadata of a model file.
    public static func parse(metadata: [String: String]) throws -> ModelConfig {
        try FileMetadata.checkFormat(metadata)
        let archName = try FileMetadata.arch(metadata)
        guard let arch = Architecture(rawValue: archName) else {
            throw FileMetadata.wrongKind(arch: archName, expected: .voicePortraitModel,
                                         unknown: "metadata avpgan.arch \"\(archName)\" is not one of voice2face, avpgan, avpgan-nocbam")
        }
        return try ModelConfig(arch: arch, json: try FileMetadata.config(metadata))
    }

    private init(arch: Architecture, json: ConfigJSON) throws {
        let field = json.field
        func integer(_ name: String, _ value: JSONValue? = nil, min: Int = 1, max: Int = ModelConfig.maxWidth) throws -> Int {
            let v = try value ?? field(name)
            guard let i = v.integerValue, i >= Int64(min), i <= Int64(max) else {
                throw AVPGANError.format("avpgan.config field \(name) is \(v.serialized), expected an integer in \(min)...\(max)")
            }
            return Int(i)
        }
        func widths(_ name: String) throws -> [Int] {
            let v = try field(name)
            guard let items = v.arrayValue, (1...ModelConfig.maxLayers).contains(items.count) else {
                throw AVPGANError.format("avpgan.config field \(name) is \(v.serialized), expected 1 to \(ModelConfig.maxLayers) widths")
            }
            return try items.map { try integer(name, $0) }
        }

        let networkValue = try field("networks")
        guard let names = networkValue.arrayValue?.map({ $0.stringValue.flatMap(NetworkName.init(rawValue:)) }),
              !names.contains(where: { $0 == nil })
        else {
            throw AVPGANError.format("avpgan.config field networks is \(networkValue.serialized), expected names among \(NetworkName.allCases.map(\.rawValue))")
        }
        let networks = names.map { $0! }
        let order = NetworkName.allCases.filter(networks.contains)
        guard networks == order, networks == [.voiceEncoder] || networks.starts(with: [.voiceEncoder, .generator]) else {
            throw AVPGANError.format("avpgan.config field networks is \(networkValue.serialized): it must be [\"voice_encoder\"] alone or start with voice_encoder, generator, and follow the order \(NetworkName.allCases.map(\.rawValue)) without repeats")
        }
        if networks.contains(.discriminator) || networks.contains(.classifier), !networks.contains(.faceEncoder) {
            throw AVPGANError.format("avpgan.config field networks lists a head without face_encoder")
        }

        self.arch = arch
        self.networks = networks
        nMels = try integer("n_mels")
        embedDim = try integer("embed_dim")
        voiceWidths = try widths("voice_widths")
        if networks.contains(.generator) {
            generatorWidths = try widths("generator_widths")
            imageSize = try integer("image_size", max: ModelConfig.maxImageSize)
            let implied = 4 << (generatorWidths.count - 1)
            guard imageSize == implied else {
                throw AVPGANError.format("avpgan.config field image_size is \(imageSize) but \(generatorWidths.count) generator widths make \(implied)x\(implied) images")
            }
        } else {
            // An encoder-only file: generator_widths and image_size, if present, are ignored.
            generatorWidths = []
            imageSize = 0
        }
        if networks.contains(.faceEncoder) {
            faceWidths = try widths("face_widths")
            guard imageSize == 4 << (faceWidths.count - 1) else {
                throw AVPGANError.format("avpgan.config field face_widths has \(faceWidths.count) widths, which do not reduce \(imageSize)x\(imageSize) images to 4x4")
            }
        } else {
            faceWidths = []
        }
        identities = networks.contains(.classifier) ? try integer("identities", max: 1 << 24) : 0

        let snValue = json["spectral_norm"]?.stringValue
        if arch.hasSpectralNorm {
            guard let s = snValue, let storage = SpectralNormStorage(rawValue: s), storage != .none else {
                throw AVPGANError.format("avpgan.config field spectral_norm is \(json["spectral_norm"]?.serialized ?? "missing"); \(arch.rawValue) needs \"folded\" or \"stored\"")
            }
            spectralNorm = storage
        } else {
            guard snValue == nil || snValue == "none" else {
                throw AVPGANError.format("avpgan.config field spectral_norm is \"\(snValue!)\" but voice2face has no spectral norm")
            }
            spectralNorm = .none
        }
        /// The optional true/false field `name` (nil when absent); false only where `canBeOff`,
        /// else refused saying `lacking`.
        func flag(_ name: String, canBeOff: Bool, lacking: String) throws -> Bool? {
            guard let g = json[name] else { return nil }
            guard case let .bool(on) = g else {
                throw AVPGANError.format("avpgan.config field \(name) is \(g.serialized), expected true or false")
            }
            guard on || canBeOff else { throw AVPGANError.format("avpgan.config field \(name) is false but \(lacking)") }
            return on
        }
        if let on = try flag("generator_spectral_norm", canBeOff: arch.hasSpectralNorm, lacking: "voice2face has no spectral norm") {
            generatorSpectralNorm = on
        }
        if let on = try flag("generator_cbam", canBeOff: arch.hasCBAM, lacking: "\(arch.rawValue) has no CBAM") { generatorCBAM = on }
        if let p = json["pixels"] {
            guard let s = p.stringValue, let mapping = PixelMapping(rawValue: s) else {
                throw AVPGANError.format("avpgan.config field pixels is \(p.serialized), expected \"clamp\" or \"minmax\"")
            }
            pixels = mapping
        } else {
            pixels = .clamp
        }
        cbamReduction = json["cbam_reduction"] == nil ? 16 : try integer("cbam_reduction")
        if let g = json["cbam_gate"] {
            guard let name = g.stringValue, let gate = CBAMGate(rawValue: name) else {
                throw AVPGANError.format("avpgan.config field cbam_gate is \(g.serialized), expected one of \(CBAMGate.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))")
            }
            guard gate == .sigmoid || arch.hasCBAM else {
                throw AVPGANError.format("avpgan.config field cbam_gate is \"\(name)\" but \(arch.rawValue) has no CBAM")
            }
            cbamGate = gate
        }
        cbamKernel = json["cbam_kernel"] == nil ? 7 : try integer("cbam_kernel", max: 31)
        guard cbamKernel % 2 == 1 else { throw AVPGANError.format("avpgan.config field cbam_kernel is \(cbamKernel), expected an odd size") }
        if let e = json["batch_norm_eps"] {
            guard let d = e.doubleValue, d > 0, d < 1 else {
                throw AVPGANError.format("avpgan.config field batch_norm_eps is \(e.serialized), expected a number in (0, 1)")
            }
            batchNormEps = Float(d)
        } else {
            batchNormEps = 1e-5
        }
    }

    // MARK: Writing

    /// The `avpgan.*` metadata that describes this config.
    public var metadata: [String: String] {
        func ints(_ a: [Int]) -> JSONValue { .array(a.map { .number(Double($0), integer: Int64($0)) }) }
        func int(_ i: Int) -> JSONValue { .number(Double(i), integer: Int64(i)) }
        var fields: [(String, JSONValue)] = [
            ("networks", .array(networks.map { .string($0.rawValue) })),
            ("n_mels", int(nMels)), ("embed_dim", int(embedDim)),
            ("voice_widths", ints(voiceWidths)),
        ]
        if has(.generator) { fields += [("generator_widths", ints(generatorWidths)), ("image_size", int(imageSize))] }
        if has(.faceEncoder) { fields.append(("face_widths", ints(faceWidths))) }
        if has(.classifier) { fields.append(("identities", int(identities))) }
        if arch.hasSpectralNorm { fields.append(("spectral_norm", .string(spectralNorm.rawValue))) }
        if arch.hasSpectralNorm && !generatorSpectralNorm { fields.append(("generator_spectral_norm", .bool(false))) }
        if arch.hasCBAM && !generatorCBAM { fields.append(("generator_cbam", .bool(false))) }
        if arch.hasCBAM && cbamGate != .sigmoid { fields.append(("cbam_gate", .string(cbamGate.rawValue))) }
        fields += [("pixels", .string(pixels.rawValue)), ("cbam_reduction", int(cbamReduction)),
                   ("cbam_kernel", int(cbamKernel)), ("batch_norm_eps", .number(Double(batchNormEps), integer: nil))]
        return ["avpgan.format": String(ModelConfig.formatVersion), "avpgan.arch": arch.rawValue,
                "avpgan.config": JSONValue.object(fields).serialized]
    }
}
