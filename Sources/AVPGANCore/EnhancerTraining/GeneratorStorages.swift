/// The generator tensors a training step starts from (`EnhancerTrainingStep`,
/// `PriorTrainingStep`), checked against its layout and made storages: every tensor of
/// `layout` present with its element count, finite, and none besides. Throws
/// `.invalidArgument` naming the tensor: "<what> tensor <name> is missing or not of shape …",
/// "… holds a non-finite value", "… is not part of <network>".
enum GeneratorStorages {
    static func make(_ tensors: [String: [Float]], layout: [(name: String, shape: [Int])], what: String,
                     network: String) throws -> [String: FloatStorage] {
        var out: [String: FloatStorage] = [:]
        for t in layout {
            guard let v = tensors[t.name], v.count == t.shape.reduce(1, *) else {
                throw AVPGANError.invalid("\(what) tensor \(t.name) is missing or not of shape \(t.shape)")
            }
            guard v.allSatisfy(\.isFinite) else { throw AVPGANError.invalid("\(what) tensor \(t.name) holds a non-finite value") }
            out[t.name] = try FloatStorage(v)
        }
        if let extra = tensors.keys.first(where: { out[$0] == nil }) {
            throw AVPGANError.invalid("\(what) tensor \(extra) is not part of \(network)")
        }
        return out
    }
}
