// EnhancerTraining/: the parts of training the enhancer (issue 17; docs/enhancer-training.md).
// `EnhancerNetwork+TrainingForward/Backward` run GFPGANv1Clean for one image and back, keeping
// what the backward needs in an `EnhancerTrainingPass` (here); the block backward passes sit
// beside them (`ModulatedConvBackward`, `StyleConvTraining`, `ToRGBTraining`, `CSSFT`, ...).
// `Degradation/` makes training inputs from high-resolution faces, `Discriminator/` holds the
// StyleGAN2 and facial-component discriminators with the R1 penalty, and `Losses/` the losses
// with their weights (docs/enhancer-losses.md). `EnhancerTrainingStep` is one whole step of
// GFPGAN's training loop over all of them, with its Adam, EMA and checkpoints. `Prior/` trains
// the StyleGAN2 face prior the decoder starts from (its network, step, checkpoints and file).

/// What one `EnhancerNetwork.trainingForward` of one image keeps for its backward, in the
/// pass's own workspace (a pass reused from image to image allocates nothing once grown).
/// Names follow the forward: `down[j]` the U-Net encoder blocks, `levels[j]` the decoder
/// levels at side `8 · 2^j`.
final class EnhancerTrainingPass {
    struct Level {
        /// The U-Net feature entering the up block (previous feature plus the skip), the block's record and output.
        var unetInput: UnsafeMutablePointer<Float>, block: ResidualBlockRecord, unetOutput: UnsafeMutablePointer<Float>
        /// The condition branches: hidden (after LeakyReLU) and output, scale then shift.
        var scaleHidden: UnsafeMutablePointer<Float>, scale: UnsafeMutablePointer<Float>
        var shiftHidden: UnsafeMutablePointer<Float>, shift: UnsafeMutablePointer<Float>
        /// The first StyleConv's output before and after CS-SFT, the second's output, the RGB.
        var upConv: UnsafeMutablePointer<Float>, modulated: UnsafeMutablePointer<Float>, conv: UnsafeMutablePointer<Float>
        var rgb: UnsafeMutablePointer<Float>
    }

    let workspace = Workspace()
    /// Scratch for the layers' own calls (separate slots from the record's).
    let scratch = Workspace()
    var slots = 0
    var input: UnsafeMutablePointer<Float>?, stem: UnsafeMutablePointer<Float>?
    var down: [(record: ResidualBlockRecord, output: UnsafeMutablePointer<Float>)] = []
    var final: UnsafeMutablePointer<Float>?, code: UnsafeMutablePointer<Float>?
    /// The style MLP's input to each layer and output of each, per vector (input_is_latent false).
    var normalized: UnsafeMutablePointer<Float>?, mlp: [[UnsafeMutablePointer<Float>]] = []
    var latents: UnsafeMutablePointer<Float>?
    var start: UnsafeMutablePointer<Float>?, firstConv: UnsafeMutablePointer<Float>?, firstRGB: UnsafeMutablePointer<Float>?
    var levels: [Level] = []
    var noises: [UnsafePointer<Float>] = []

    init() {}

    /// The next record slot of at least `count` floats.
    func take(_ count: Int) throws -> UnsafeMutablePointer<Float> {
        defer { slots += 1 }
        return try workspace.slot(slots, count: max(count, 1))
    }

    func record(for block: ResidualBlock, side: Int) throws -> ResidualBlockRecord {
        let c = block.recordCounts(side: side)
        return ResidualBlockRecord(conv1: try take(c.conv1), resized: try take(c.resized), conv2: try take(c.conv2), shortcut: try take(c.shortcut))
    }
}
