/// The weights of the enhancer's training losses (the paper's eqs. 7–11, Algorithm 1 step 10):
/// the generator's total loss is `Σ weight(term) · term`. A term whose weight is 0 is off and
/// its loss is not computed at all (nor its feature network run). Defaults are the paper's.
public struct EnhancerLossWeights: Equatable, Sendable {
    /// One term of the enhancer's generator loss.
    public enum Term: String, CaseIterable, Sendable {
        /// Mean absolute error between output and truth (eq. 7).
        case l1
        /// L1 between VGG-19 features of output and truth, per-layer weighted (eq. 8).
        case perceptual
        /// L1 between Gram matrices of those VGG-19 features (basicsr's `style_weight`). The
        /// paper names no such term, so it is off by default; GFPGAN's train_gfpgan_v1.yml uses 50.
        case perceptualStyle
        /// The non-saturating softplus adversarial loss against the whole-face discriminator (eq. 9).
        case adversarial
        /// The eye and mouth ROI discriminators' adversarial losses (eq. 10).
        case facialComponents
        /// L1 between Gram matrices of the ROI discriminators' features, output against truth (eq. 10).
        case componentStyle
        /// L1 between face-recognition embeddings of output and truth (eq. 11).
        case identity

        /// The key basicsr's GFPGANModel logs this term under, for comparing logs.
        public var logName: String {
            switch self {
            case .l1: return "l_g_pix"
            case .perceptual: return "l_g_percep"
            case .perceptualStyle: return "l_g_style"
            case .adversarial: return "l_g_gan"
            case .facialComponents: return "l_g_gan_components"
            case .componentStyle: return "l_g_comp_style_loss"
            case .identity: return "l_identity"
            }
        }
    }

    public var l1: Float = 0.1
    public var perceptual: Float = 1
    public var perceptualStyle: Float = 0
    public var adversarial: Float = 0.1
    public var facialComponents: Float = 1
    public var componentStyle: Float = 200
    public var identity: Float = 10

    /// The paper's weights: L1 0.1, perceptual 1, adversarial 0.1, facial components 1, Gram
    /// style 200, identity 10 (no perceptual style term).
    public init() {}

    /// The paper's weights plus the perceptual style term of GFPGAN's train_gfpgan_v1.yml (50).
    public static var gfpganV1: EnhancerLossWeights {
        var w = EnhancerLossWeights()
        w.perceptualStyle = 50
        return w
    }

    /// The weight of `term`.
    public subscript(term: Term) -> Float {
        get {
            switch term {
            case .l1: return l1
            case .perceptual: return perceptual
            case .perceptualStyle: return perceptualStyle
            case .adversarial: return adversarial
            case .facialComponents: return facialComponents
            case .componentStyle: return componentStyle
            case .identity: return identity
            }
        }
        set {
            switch term {
            case .l1: l1 = newValue
            case .perceptual: perceptual = newValue
            case .perceptualStyle: perceptualStyle = newValue
            case .adversarial: adversarial = newValue
            case .facialComponents: facialComponents = newValue
            case .componentStyle: componentStyle = newValue
            case .identity: identity = newValue
            }
        }
    }

    /// Whether `term` is computed (its weight is not 0).
    public func isEnabled(_ term: Term) -> Bool { self[term] != 0 }

    /// The terms that are computed, in `Term.allCases` order.
    public var enabledTerms: [Term] { Term.allCases.filter(isEnabled) }

    /// Throws `invalidArgument` naming the term unless every weight is finite and not negative.
    public func validate() throws {
        for term in Term.allCases where !(self[term].isFinite && self[term] >= 0) {
            throw AVPGANError.invalid("loss weight \(term.rawValue) is \(self[term]); a weight must be finite and not negative (0 turns the term off)")
        }
    }

    /// Weights from `name=value` pairs separated by commas (names as `Term.rawValue`, e.g.
    /// "l1=0.1,identity=0"), starting from the paper's defaults; unknown names, bad numbers and
    /// invalid weights throw `invalidArgument`.
    public init(parsing text: String) throws {
        for pair in text.split(separator: ",", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).trimmingWhitespace }
            guard parts.count == 2, let term = Term(rawValue: parts[0]) else {
                let names = Term.allCases.map(\.rawValue).joined(separator: ", ")
                throw AVPGANError.invalid("loss weight '\(pair)' is not NAME=VALUE with NAME one of \(names)")
            }
            guard let value = Float(parts[1]) else {
                throw AVPGANError.invalid("loss weight \(term.rawValue)='\(parts[1])' is not a number")
            }
            self[term] = value
        }
        try validate()
    }
}
