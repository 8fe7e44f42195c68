/// The trained enhancer as a file: the EMA copy of the generator (what GFPGAN releases, its
/// `params_ema`) in the enhancer format (docs/enhancer-format.md), every tensor of the layout
/// with its shape as F32, the stored noises those the training started with; `avpgan enhance`,
/// `avpgan portrait --enhance` and `Enhancer(bytes:)` load it.
extension EnhancerTrainingStep {
    /// The enhancer file's bytes; `metadata` adds keys beside the config's (which win).
    func enhancerFile(metadata extra: [String: String] = [:]) -> [UInt8] {
        let tensors = EnhancerLayout.tensors(for: config).map {
            SafetensorsWriter.Tensor(name: $0.name, shape: $0.shape, floats: ema[$0.name]!.array)
        }
        return SafetensorsWriter.serialize(tensors, metadata: config.metadata.merging(extra) { own, _ in own })
    }
}
