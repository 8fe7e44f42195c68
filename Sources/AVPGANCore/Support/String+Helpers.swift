/// Small string operations the core needs without Foundation.
extension String {
    /// Without leading and trailing spaces and tabs.
    public var trimmingWhitespace: String {
        let scalars = unicodeScalars.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed()
        return String(String.UnicodeScalarView(scalars))
    }

    /// A hash of the UTF-8 bytes that is the same in every process (Swift's hashValue is seeded per run).
    var hashValueStable: UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }
}

/// `x` with `digits` decimals (no Foundation).
public func fixed(_ x: Double, _ digits: Int) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let r = (abs(x) * scale).rounded()
    let whole = Int(r / scale), frac = Int(r.truncatingRemainder(dividingBy: scale))
    let f = String(frac)
    return (x < 0 ? "-" : "") + String(whole) + (digits > 0 ? "." + String(repeating: "0", count: digits - f.count) + f : "")
}

