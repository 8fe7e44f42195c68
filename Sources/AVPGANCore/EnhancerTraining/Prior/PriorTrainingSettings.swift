#if canImport(Glibc)
import Glibc
#endif

/// The settings of basicsr's StyleGAN2Model (options/train/StyleGAN/train_StyleGAN2_256_Cmul2_FFHQ.yml),
/// which `PriorTrainingStep` follows:
/// - generator and discriminator: Adam, lr 2e-3, eps 1e-8, betas scaled for lazy
///   regularisation as upstream does, `(0^r, 0.99^r)` with `r = every / (every + 1)`
///   (`net_g_reg_every` 4 for the generator, `net_d_reg_every` 16 for the discriminator).
///   Upstream also passes `lr · r` as Adam's default lr, but its single parameter group
///   carries the unscaled lr, which torch uses: the lr stays 2e-3, as here;
/// - the R1 penalty on the real images every `dRegEvery` steps (steps count from 1), weighted
///   `r1Weight / 2 · dRegEvery` (r1 10);
/// - style mixing: with probability `mixingProb` (0.9) two z per image, the injection index
///   uniform in 1..<latentCount;
/// - the generator's loss: the non-saturating softplus `mean softplus(−D(G(z)))`, weight 1;
/// - the EMA copy: `ema = ema · decay + g · (1 − decay)`, decay `0.5^(32 / 10000)`.
/// - the generator's path-length regularisation (`PriorPathLength.swift`) every `gRegEvery`
///   steps on `max(1, N / pathBatchShrink)` (2) fresh samples, weighted `pathRegWeight` (2) ·
///   `gRegEvery`, its running mean's decay 0.01 (0 turns it off; `gRegEvery` scales the
///   generator's betas whether or not it runs, as upstream's does). Its parameter gradient is a
///   central difference, as the R1 term's, where upstream double-backwards.
public struct PriorTrainingSettings: Equatable, Sendable {
    public var generatorLR: Double = 2e-3
    public var discriminatorLR: Double = 2e-3
    /// The betas before the lazy-regularisation scaling.
    public var betas: (Double, Double) = (0, 0.99)
    public var eps: Double = 1e-8
    public var gRegEvery = 4
    public var dRegEvery = 16
    public var r1Weight: Double = 10
    public var mixingProb: Double = 0.9
    public var pathRegWeight: Double = 2
    public var pathBatchShrink = 2
    public var pathDecay: Double = 0.01
    public var emaDecay: Double = pow(0.5, 32.0 / 10_000)

    public init() {}

    public static func == (a: Self, b: Self) -> Bool {
        a.generatorLR == b.generatorLR && a.discriminatorLR == b.discriminatorLR && a.betas == b.betas && a.eps == b.eps
            && a.gRegEvery == b.gRegEvery && a.dRegEvery == b.dRegEvery && a.r1Weight == b.r1Weight && a.mixingProb == b.mixingProb
            && a.emaDecay == b.emaDecay && a.pathRegWeight == b.pathRegWeight && a.pathBatchShrink == b.pathBatchShrink
            && a.pathDecay == b.pathDecay
    }

    /// Adam's betas for a network regularised every `every` steps.
    static func scaledBetas(_ betas: (Double, Double), every: Int) -> (Double, Double) {
        let r = Double(every) / Double(every + 1)
        return (pow(betas.0, r), pow(betas.1, r))
    }

    var generatorBetas: (Double, Double) { Self.scaledBetas(betas, every: gRegEvery) }
    var discriminatorBetas: (Double, Double) { Self.scaledBetas(betas, every: dRegEvery) }

    /// The R1 penalty's weight in the discriminator's loss at a regularised step.
    var r1StepWeight: Double { r1Weight / 2 * Double(dRegEvery) }

    /// Throws `invalidArgument` naming the setting unless every one is in its range.
    public func validate() throws {
        for (name, lr) in [("generator lr", generatorLR), ("discriminator lr", discriminatorLR)] where !(lr.isFinite && lr >= 0) {
            throw AVPGANError.invalid("the prior's \(name) is \(lr); it must be finite and not negative")
        }
        for beta in [betas.0, betas.1] where !(beta >= 0 && beta < 1) {
            throw AVPGANError.invalid("the prior's Adam beta \(beta) is outside [0, 1)")
        }
        guard eps.isFinite, eps > 0 else { throw AVPGANError.invalid("Adam eps is \(eps); it must be finite and positive") }
        for (name, every) in [("generator's regularisation interval", gRegEvery), ("R1 interval", dRegEvery)] where every < 1 {
            throw AVPGANError.invalid("the \(name) is \(every); it must be at least 1")
        }
        guard r1Weight.isFinite, r1Weight >= 0 else { throw AVPGANError.invalid("the R1 weight is \(r1Weight); it must be finite and not negative") }
        guard mixingProb >= 0, mixingProb <= 1 else { throw AVPGANError.invalid("the style-mixing probability is \(mixingProb); it must lie in [0, 1]") }
        guard pathRegWeight.isFinite, pathRegWeight >= 0 else {
            throw AVPGANError.invalid("the path-length weight is \(pathRegWeight); it must be finite and not negative")
        }
        guard pathBatchShrink >= 1 else { throw AVPGANError.invalid("the path batch shrink is \(pathBatchShrink); it must be at least 1") }
        guard pathDecay >= 0, pathDecay <= 1 else { throw AVPGANError.invalid("the path-length decay is \(pathDecay); it must lie in [0, 1]") }
        guard emaDecay >= 0, emaDecay <= 1 else { throw AVPGANError.invalid("the EMA decay is \(emaDecay); it must lie in [0, 1]") }
    }
}
