/// The one checked reader of safetensors files (models, face models, enhancers, training
/// checkpoints): a file's tensors after the check that it holds exactly the `expected` names,
/// each with its expected shape and a float dtype; values are read (and checked) on demand.
/// Messages call a tensor `noun` ("tensor", "checkpoint tensor"); `missing` (when not nil) and
/// `extra` describe the file in the messages of a missing and an extra tensor.
struct CheckedTensors {
    let file: Safetensors
    private let expected: [String: [Int]]
    private let noun: String

    init(file: Safetensors, expected layout: [(name: String, shape: [Int])], noun: String = "tensor",
         missing: String?, extra: String) throws {
        self.file = file
        self.noun = noun
        var expected: [String: [Int]] = [:]
        for t in layout { expected[t.name] = t.shape }
        self.expected = expected
        for t in layout {
            guard let e = file.entry(t.name) else {
                throw AVPGANError.format("\(noun) \(t.name) is missing\(missing.map { " (\($0))" } ?? "")")
            }
            guard e.dtype.isFloat else {
                throw AVPGANError.format("\(noun) \(t.name) has dtype \(e.dtype.rawValue), expected F32, F16 or BF16")
            }
            guard e.shape == t.shape else {
                throw AVPGANError.format("\(noun) \(t.name) has shape \(e.shape) but the config implies \(t.shape)")
            }
        }
        if let e = file.entries.first(where: { expected[$0.name] == nil }) {
            throw AVPGANError.format("\(noun) \(e.name) is not part of \(extra) (extra tensor)")
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

    /// Every value finite; a variance (BatchNorm's `*.running_var`, Adam's second moment
    /// `adam.exp_avg_sq.*`) not negative.
    private func check(_ name: String, _ values: UnsafeBufferPointer<Float>) throws {
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw AVPGANError.format("\(noun) \(name) holds a non-finite value (\(values[bad])) at element \(bad)")
        }
        let variance = name.hasSuffix(".running_var") || name.hasPrefix(CheckpointValues.secondMomentPrefix)
        if variance, let bad = values.firstIndex(where: { $0 < 0 }) {
            throw AVPGANError.format("\(noun) \(name) holds a negative value (\(values[bad])) at element \(bad); it is a variance")
        }
    }

    /// The shape the layout gives `name`.
    func shape(_ name: String) -> [Int] { expected[name] ?? [] }
}
