/// The style inputs of one prior forward for a batch of N images: z `[V, N, S]` (V = 1, or 2
/// with style mixing: upstream's `torch.randn(2, N, S).unbind(0)`) and, with V = 2, the
/// injection index i in 1..<latentCount (the first i style vectors come from z₀'s w, the rest
/// from z₁'s; upstream's `inject_index`).
struct PriorStyles {
    var z: [Float]
    var vectors: Int
    var injectIndex: Int?

    /// Which of the V vectors feeds style slot `layer`.
    func source(ofLayer layer: Int) -> Int { injectIndex.map { layer < $0 ? 0 : 1 } ?? 0 }
}

/// What one `PriorNetwork.trainingForward` keeps for its backward, in the pass's own
/// workspace (reused from step to step, it allocates nothing once grown). Per image: the
/// style vectors `[L, S]`, every StyleConv's and ToRGB's output and the noise planes.
final class PriorTrainingPass {
    struct Image {
        var latents: UnsafeMutablePointer<Float>
        var noises: [UnsafePointer<Float>]
        var firstConv: UnsafeMutablePointer<Float>, firstRGB: UnsafeMutablePointer<Float>
        /// Per level: the upsampling StyleConv's output, the second StyleConv's, the RGB.
        var levels: [(upConv: UnsafeMutablePointer<Float>, conv: UnsafeMutablePointer<Float>, rgb: UnsafeMutablePointer<Float>)]
    }

    let workspace = Workspace()
    /// Scratch for the layers' own calls.
    let scratch = Workspace()
    var slots = 0
    /// The z the forward started from (nil: it started from w) and the style MLP's record.
    var styles: PriorStyles?
    var mlpRecord: UnsafeMutablePointer<Float>?
    var images: [Image] = []

    init() {}

    /// The next record slot of at least `count` floats.
    func take(_ count: Int) throws -> UnsafeMutablePointer<Float> {
        defer { slots += 1 }
        return try workspace.slot(slots, count: max(count, 1))
    }
}
