#if canImport(Glibc)
import Glibc
#endif

/// The settings of GFPGAN's training loop (upstream's `GFPGANModel` with
/// options/train_gfpgan_v1.yml), which `EnhancerTrainingStep` follows:
/// - generator: Adam, lr 2e-3, betas (0, 0.99);
/// - face discriminator: Adam with lr and betas scaled for lazy regularisation as upstream
///   does, `ratio = regEvery / (regEvery + 1)`: lr `2e-3 · ratio`, betas `(0^ratio, 0.99^ratio)`;
///   its R1 penalty every `regEvery` (16) steps, weighted `r1Weight / 2 · regEvery` (r1 10);
/// - facial-component discriminators: Adam, lr 2e-3, betas (0.9, 0.99);
/// - the EMA copy of the generator: `ema = ema · decay + g · (1 − decay)` after each step,
///   upstream's decay `0.5^(32 / 10000)` ≈ 0.99778 (basicsr's own default is 0.999).
/// eps 1e-8 everywhere (torch's default).
public struct EnhancerTrainingSettings: Equatable, Sendable {
    public var losses = EnhancerLossWeights()
    public var generatorLR: Double = 2e-3
    public var generatorBetas: (Double, Double) = (0, 0.99)
    public var discriminatorLR: Double = 2e-3
    public var discriminatorBetas: (Double, Double) = (0, 0.99)
    public var componentLR: Double = 2e-3
    public var componentBetas: (Double, Double) = (0.9, 0.99)
    public var eps: Double = 1e-8
    /// `net_d_reg_every`: the R1 penalty runs at steps divisible by it (steps count from 1).
    public var regEvery = 16
    /// `r1_reg_weight`.
    public var r1Weight: Double = 10
    public var emaDecay: Double = pow(0.5, 32.0 / 10_000)

    public init() {}

    public static func == (a: Self, b: Self) -> Bool {
        a.losses == b.losses && a.generatorLR == b.generatorLR && a.generatorBetas == b.generatorBetas
            && a.discriminatorLR == b.discriminatorLR && a.discriminatorBetas == b.discriminatorBetas && a.componentLR == b.componentLR
            && a.componentBetas == b.componentBetas && a.eps == b.eps && a.regEvery == b.regEvery && a.r1Weight == b.r1Weight
            && a.emaDecay == b.emaDecay
    }

    /// `regEvery / (regEvery + 1)`, upstream's `net_d_reg_ratio`.
    var regularisationRatio: Double { Double(regEvery) / Double(regEvery + 1) }

    /// The face discriminator's Adam settings after upstream's scaling.
    var scaledDiscriminator: (lr: Double, beta1: Double, beta2: Double) {
        let r = regularisationRatio
        return (discriminatorLR * r, pow(discriminatorBetas.0, r), pow(discriminatorBetas.1, r))
    }

    /// The R1 penalty's weight in the discriminator's loss at a regularised step.
    var r1StepWeight: Double { r1Weight / 2 * Double(regEvery) }

    /// Throws `invalidArgument` naming the setting unless every one is in its range.
    public func validate() throws {
        try losses.validate()
        for (name, lr) in [("generator lr", generatorLR), ("discriminator lr", discriminatorLR), ("component lr", componentLR)]
            where !(lr.isFinite && lr >= 0) {
            throw AVPGANError.invalid("\(name) is \(lr); it must be finite and not negative")
        }
        for (name, betas) in [("generator", generatorBetas), ("discriminator", discriminatorBetas), ("component", componentBetas)] {
            for beta in [betas.0, betas.1] where !(beta >= 0 && beta < 1) {
                throw AVPGANError.invalid("\(name) Adam beta \(beta) is outside [0, 1)")
            }
        }
        guard eps.isFinite, eps > 0 else { throw AVPGANError.invalid("Adam eps is \(eps); it must be finite and positive") }
        guard regEvery >= 1 else { throw AVPGANError.invalid("the R1 interval is \(regEvery); it must be at least 1") }
        guard r1Weight.isFinite, r1Weight >= 0 else { throw AVPGANError.invalid("the R1 weight is \(r1Weight); it must be finite and not negative") }
        guard emaDecay >= 0, emaDecay <= 1 else { throw AVPGANError.invalid("the EMA decay is \(emaDecay); it must lie in [0, 1]") }
    }
}
