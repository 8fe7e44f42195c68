/// Hands a model file's tensors to the network builders by name, after checking that the file
/// holds exactly the tensors its config implies, each with the implied shape and finite values.
struct WeightReader {
    let file: Safetensors
    let config: ModelConfig
    private let tensors: CheckedTensors

    init(file: Safetensors, config: ModelConfig) throws {
        self.file = file
        self.config = config
        let sn = config.arch.hasSpectralNorm ? ", spectral_norm \(config.spectralNorm.rawValue)" : ""
        tensors = try CheckedTensors(
            file: file, expected: TensorLayout.tensors(for: config).map { ($0.name, $0.shape) },
            missing: "arch \(config.arch.rawValue)\(sn), networks \(config.networks.map(\.rawValue).joined(separator: ", "))",
            extra: "an \(config.arch.rawValue) model with networks \(config.networks.map(\.rawValue).joined(separator: ", "))")
    }

    func floats(_ name: String) throws -> [Float] { try tensors.floats(name) }

    func storage(_ name: String) throws -> FloatStorage { try tensors.storage(name) }

    /// The shape the layout gives `name`.
    func shape(_ name: String) -> [Int] { tensors.shape(name) }

    /// The weight of a possibly spectrally normalised layer `prefix` (`….model.N`): `.weight`
    /// as stored, or the effective weight of `.weight_orig/_u/_v` (torch's eval mode).
    func weight(_ prefix: String, normalised: Bool, dim: Int) throws -> FloatStorage {
        guard normalised && config.spectralNorm == .stored else { return try storage("\(prefix).weight") }
        let w = try SpectralNorm.effectiveWeight(
            floats("\(prefix).weight_orig"), shape: shape("\(prefix).weight_orig"), dim: dim,
            u: floats("\(prefix).weight_u"), v: floats("\(prefix).weight_v"), name: "\(prefix).weight_orig")
        return try FloatStorage(w)
    }
}
