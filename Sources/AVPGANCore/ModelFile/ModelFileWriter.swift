/// Writes model files (docs/model-format.md): the tensors a config implies, in layout order,
/// as F32, with the `avpgan.*` metadata. Refuses a tensor set or size that the reader would.
public enum ModelFileWriter {
    /// The bytes of a model file for `config` holding `tensors` (name -> values, row-major in
    /// the layout's shape). `metadata` adds keys such as `avpgan.source`.
    public static func serialize(config: ModelConfig, tensors: [String: [Float]], metadata: [String: String] = [:]) throws -> [UInt8] {
        let layout = TensorLayout.tensors(for: config)
        var out: [SafetensorsWriter.Tensor] = []
        for (name, shape) in layout {
            guard let values = tensors[name] else { throw AVPGANError.invalid("tensor \(name) is missing for this config") }
            let count = shape.reduce(1, *)
            guard values.count == count else {
                throw AVPGANError.invalid("tensor \(name) has \(values.count) values; shape \(shape) needs \(count)")
            }
            guard values.allSatisfy(\.isFinite) else { throw AVPGANError.invalid("tensor \(name) holds a non-finite value") }
            out.append(.init(name: name, shape: shape, floats: values))
        }
        let known = Set(layout.map(\.name))
        if let extra = tensors.keys.sorted().first(where: { !known.contains($0) }) {
            throw AVPGANError.invalid("tensor \(extra) is not part of this config's layout")
        }
        if let reserved = metadata.keys.first(where: { config.metadata[$0] != nil }) {
            throw AVPGANError.invalid("metadata \(reserved) is written from the config")
        }
        return SafetensorsWriter.serialize(out, metadata: config.metadata.merging(metadata) { a, _ in a })
    }

    public static func write(config: ModelConfig, tensors: [String: [Float]], metadata: [String: String] = [:], to path: String) throws {
        try FileIO.write(serialize(config: config, tensors: tensors, metadata: metadata), to: path)
    }
}
