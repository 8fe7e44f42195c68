/// What one `StyleGAN2Discriminator.forward` keeps for its `backward`: every layer's output
/// (and the blurred inputs of the strided convolutions), all in the pass's own workspace, so a
/// pass reused from step to step allocates nothing once it has grown. One pass holds one
/// batch's record at a time; a new forward replaces it.
final class DiscriminatorPass {
    struct Block {
        let input: FeatureMap, conv1: FeatureMap, conv2: FeatureMap, skip: FeatureMap, output: FeatureMap
        let blurredConv1: UnsafeMutablePointer<Float>, blurredInput: UnsafeMutablePointer<Float>
    }

    let workspace = Workspace()
    var batch = 0, group = 1
    var input: FeatureMap?, stem: FeatureMap?, blocks: [Block] = []
    var joined: FeatureMap?, final: FeatureMap?
    var flat: UnsafeMutablePointer<Float>?, hidden: UnsafeMutablePointer<Float>?, cols: UnsafeMutablePointer<Float>?
    /// Workspace slots the forward used; backward's scratch comes after them.
    var slots = 0

    init() {}

    /// The next slot of at least `count` floats.
    func take(_ count: Int) throws -> UnsafeMutablePointer<Float> {
        defer { slots += 1 }
        return try workspace.slot(slots, count: max(count, 1))
    }

    func map(_ channels: Int, _ side: Int) throws -> FeatureMap {
        FeatureMap(data: try take(channels * batch * side * side), channels: channels, batch: batch, height: side, width: side)
    }
}
