/// `FaceDegradation` as text, for the command line and for checkpoints:
/// `blur=LO:HI,downsample=LO:HI,noise=LO:HI,jpeg=LO:HI,kernel=N,isotropic=P`, each range `off`
/// to switch its stage off. Parsing starts from GFPGAN's defaults and replaces the fields named;
/// `text` names every field, and parsing it gives back the same value.
extension FaceDegradation {
    /// The field names `init(parsing:)` knows.
    public static let fieldNames = ["blur", "downsample", "noise", "jpeg", "kernel", "isotropic"]

    /// Every field, in `fieldNames`' order.
    public var text: String {
        func range(_ r: ClosedRange<Double>?) -> String { r.map { "\($0.lowerBound):\($0.upperBound)" } ?? "off" }
        return "blur=\(range(blurSigma)),downsample=\(range(downsample)),noise=\(range(noiseSigma)),"
            + "jpeg=\(range(jpegQuality)),kernel=\(kernelSize),isotropic=\(isotropicProbability)"
    }

    /// GFPGAN's degradation with the fields `text` names replaced; throws `invalidArgument`
    /// naming the field that is unknown, malformed or out of range (`validate`).
    public init(parsing text: String) throws {
        self.init()
        for pair in text.split(separator: ",", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).trimmingWhitespace }
            guard parts.count == 2, Self.fieldNames.contains(parts[0]) else {
                throw AVPGANError.invalid("degradation '\(pair)' is not NAME=VALUE with NAME one of \(Self.fieldNames.joined(separator: ", "))")
            }
            let (name, value) = (parts[0], parts[1])
            switch name {
            case "kernel":
                guard let k = Int(value) else { throw AVPGANError.invalid("degradation kernel='\(value)' is not an integer") }
                kernelSize = k
            case "isotropic":
                guard let p = Double(value) else { throw AVPGANError.invalid("degradation isotropic='\(value)' is not a number") }
                isotropicProbability = p
            default:
                let range = try Self.range(name, value)
                switch name {
                case "blur": blurSigma = range
                case "downsample": downsample = range
                case "noise": noiseSigma = range
                default: jpegQuality = range
                }
            }
        }
        try validate()
    }

    /// `LO:HI` (or one number, LO = HI) as a range, `off` as nil.
    private static func range(_ name: String, _ value: String) throws -> ClosedRange<Double>? {
        if value == "off" { return nil }
        let ends = value.split(separator: ":", omittingEmptySubsequences: false).map { Double(String($0)) }
        guard (1...2).contains(ends.count), let lo = ends.first ?? nil, let hi = ends.last ?? nil, lo.isFinite, hi.isFinite else {
            throw AVPGANError.invalid("degradation \(name)='\(value)' is not LO:HI, one number, or off")
        }
        guard lo <= hi else { throw AVPGANError.invalid("degradation \(name)='\(value)': \(lo) is above \(hi)") }
        return lo...hi
    }
}
