#if canImport(Glibc)
import Glibc
#endif

/// Watches a GAN run for the failures of issue 11 (docs/training-design.md, "Training health"):
/// - `collapse`: the generated faces of a batch no longer differ (their spread, the mean over
///   pixels of the standard deviation across the batch, clamped to [-1, 1], stays below
///   `collapseSpread`);
/// - `discriminatorWins`: the discriminator's loss d_real + d_fake stays near zero
///   (below `discriminatorLoss`);
/// - `classifierAtChance`: the classifier's loss on generated faces (g_class) stays at or above
///   chance, ln(identities).
/// Each signal is an exponential moving average over about `window` steps, judged from step
/// `warmUp` on (a fresh generator's faces are all alike and its classifier loss is chance).
/// A warning, once raised, stays raised: the run it describes is suspect from then on. The state
/// is kept in checkpoints, so a resumed run judges exactly as an uninterrupted one.
public struct TrainingHealth: Equatable, Sendable {
    public enum Warning: String, CaseIterable, Sendable {
        case collapse, discriminatorWins = "discriminator_wins", classifierAtChance = "classifier_at_chance"

        /// Whether `--stop-on-collapse` (`stop_on_collapse`) stops on it: collapse and a runaway
        /// discriminator do; a classifier at chance only warns (avpgan learned held-out faces
        /// above chance while it was raised: docs/training-design.md).
        public var stopsRun: Bool { self != .classifierAtChance }

        /// What the warning means, for messages.
        public var meaning: String {
            switch self {
            case .collapse: return "mode collapse: the generated faces of a batch no longer differ"
            case .discriminatorWins: return "the discriminator wins: its loss has stayed near zero"
            case .classifierAtChance: return "the classifier does not recognise generated faces better than chance"
            }
        }
    }

    /// Default of `warmUp`.
    public static let defaultWarmUp = 500
    public static let window = 100.0
    public static let collapseSpread = 0.01
    public static let discriminatorLoss = 0.01

    /// Steps observed.
    public private(set) var steps = 0
    /// Steps before anything is judged (at least 1).
    public let warmUp: Int
    /// Moving averages of the batch spread (NaN until a batch of two or more), d_real + d_fake
    /// and g_class.
    public private(set) var spread = Double.nan, dLoss = 0.0, gClass = 0.0
    /// Raised warnings with the step at which each was raised, in raising order.
    public private(set) var raised: [(warning: Warning, step: Int)] = []

    public init(warmUp: Int = TrainingHealth.defaultWarmUp) { self.warmUp = max(warmUp, 1) }

    public static func == (a: TrainingHealth, b: TrainingHealth) -> Bool {
        a.steps == b.steps && a.warmUp == b.warmUp && a.spread.bitPattern == b.spread.bitPattern && a.dLoss == b.dLoss && a.gClass == b.gClass
            && a.raised.map(\.warning) == b.raised.map(\.warning) && a.raised.map(\.step) == b.raised.map(\.step)
    }

    public var warnings: [Warning] { raised.map(\.warning) }
    public var isHealthy: Bool { raised.isEmpty }

    /// Takes one step's losses (d_real, d_fake, c_real, g_fake, g_class), the batch spread of its
    /// generated faces (nil for a batch of one, which has none) and the number of identities;
    /// returns the warnings this step raised.
    @discardableResult
    public mutating func observe(losses: [Float], spread batchSpread: Float?, identities: Int, step: Int) -> [Warning] {
        let d = Double(losses[0]) + Double(losses[1]), g = Double(losses[4]), a = 1 / TrainingHealth.window
        if let s = batchSpread.map(Double.init) { spread = spread.isNaN ? s : spread + a * (s - spread) }
        if steps == 0 {
            (dLoss, gClass) = (d, g)
        } else {
            dLoss += a * (d - dLoss)
            gClass += a * (g - gClass)
        }
        steps += 1
        guard steps >= warmUp else { return [] }
        var new: [Warning] = []
        func check(_ w: Warning, _ bad: Bool) {
            if bad && !raised.contains(where: { $0.warning == w }) { raised.append((w, step)); new.append(w) }
        }
        check(.collapse, !spread.isNaN && spread < TrainingHealth.collapseSpread)
        check(.discriminatorWins, dLoss < TrainingHealth.discriminatorLoss)
        check(.classifierAtChance, identities > 1 && gClass >= log(Double(identities)))
        return new
    }

    /// A one-line description of the raised warnings (empty when healthy).
    public var summary: String {
        raised.map { "\($0.warning.rawValue) since step \($0.step) (\($0.warning.meaning))" }.joined(separator: "; ")
    }

    // MARK: Checkpoints

    /// The state as JSON (in `avpgan.checkpoint`'s `health`): numbers as decimal strings of
    /// their bit patterns where exactness matters, so a resumed run continues identically.
    public var json: JSONValue {
        .object([
            ("steps", .number(Double(steps), integer: Int64(steps))),
            ("warm_up", .number(Double(warmUp), integer: Int64(warmUp))),
            ("state", .string([spread, dLoss, gClass].map { String($0.bitPattern) }.joined(separator: " "))),
            ("spread", .number(spread, integer: nil)), ("d_loss", .number(dLoss, integer: nil)),
            ("g_class", .number(gClass, integer: nil)),
            ("warnings", .array(raised.map { .object([("warning", .string($0.warning.rawValue)),
                                                      ("step", .number(Double($0.step), integer: Int64($0.step)))]) })),
        ])
    }

    /// The state of `json`; throws a format error naming what is wrong.
    public init(json: JSONValue) throws {
        guard let steps = json["steps"]?.integerValue, steps >= 0, let state = json["state"]?.stringValue,
              let warnings = json["warnings"]?.arrayValue else {
            throw AVPGANError.format("avpgan.checkpoint health lacks steps, state or warnings")
        }
        let bits = state.split(separator: " ").compactMap { UInt64($0) }
        guard bits.count == 3 else { throw AVPGANError.format("avpgan.checkpoint health state \"\(state)\" is not three numbers") }
        self.steps = Int(steps)
        warmUp = max(Int(json["warm_up"]?.integerValue ?? Int64(TrainingHealth.defaultWarmUp)), 1)
        (spread, dLoss, gClass) = (Double(bitPattern: bits[0]), Double(bitPattern: bits[1]), Double(bitPattern: bits[2]))
        for w in warnings {
            guard let name = w["warning"]?.stringValue, let warning = Warning(rawValue: name), let step = w["step"]?.integerValue else {
                throw AVPGANError.format("avpgan.checkpoint health warning \(w.serialized) is not {\"warning\", \"step\"}")
            }
            raised.append((warning, Int(step)))
        }
    }
}
