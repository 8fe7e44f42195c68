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

/// A file's tensors after the check that it holds exactly the `expected` names, each with its
/// expected shape and a float dtype; values are read (and checked finite) on demand.
/// `missing` and `extra` describe the model in the two messages.
struct CheckedTensors {
    let file: Safetensors
    private let expected: [String: [Int]]

    init(file: Safetensors, expected layout: [(name: String, shape: [Int])], missing: String, extra: String) throws {
        self.file = file
        var expected: [String: [Int]] = [:]
        for t in layout { expected[t.name] = t.shape }
        self.expected = expected
        for t in layout {
            guard let e = file.entry(t.name) else { throw AVPGANError.format("tensor \(t.name) is missing (\(missing))") }
            guard e.dtype.isFloat else {
                throw AVPGANError.format("tensor \(t.name) has dtype \(e.dtype.rawValue), expected F32, F16 or BF16")
            }
            guard e.shape == t.shape else {
                throw AVPGANError.format("tensor \(t.name) has shape \(e.shape) but the config implies \(t.shape)")
            }
        }
        if let e = file.entries.first(where: { expected[$0.name] == nil }) {
            throw AVPGANError.format("tensor \(e.name) is not part of \(extra) (extra tensor)")
        }
    }

    /// The values of tensor `name` (whose presence and shape the initialiser checked).
    func floats(_ name: String) throws -> [Float] {
        let values = try file.floats(entry(name))
        try values.withUnsafeBufferPointer { try check(name, $0) }
        return values
    }

    /// The values of tensor `name` in aligned storage, copied once from the file's bytes (the
    /// weights' path at load: no intermediate array), with the same checks as `floats`.
    func storage(_ name: String) throws -> FloatStorage {
        let e = try entry(name)
        let storage = try FloatStorage(count: e.elementCount) { try file.copyFloats(e, into: $0) }
        try check(name, UnsafeBufferPointer(storage.buffer))
        return storage
    }

    private func entry(_ name: String) throws -> SafetensorsEntry {
        guard let e = file.entry(name) else { throw AVPGANError(.internal, "tensor \(name) requested but not in the layout") }
        return e
    }

    /// Every value finite; a BatchNorm variance not negative.
    private func check(_ name: String, _ values: UnsafeBufferPointer<Float>) throws {
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw AVPGANError.format("tensor \(name) holds a non-finite value (\(values[bad])) at element \(bad)")
        }
        if name.hasSuffix(".running_var"), let bad = values.firstIndex(where: { $0 < 0 }) {
            throw AVPGANError.format("tensor \(name) holds a negative value (\(values[bad])) at element \(bad); it is a variance")
        }
    }

    /// The shape the layout gives `name`.
    func shape(_ name: String) -> [Int] { expected[name] ?? [] }
}
