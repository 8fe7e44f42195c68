/// Overflow-checked size arithmetic for values that come from files or callers: a product or
/// sum that does not fit an `Int` is reported as an error instead of trapping.
enum Checked {
    /// The product of `factors`, or nil when it overflows or a factor is negative.
    static func product<S: Sequence>(_ factors: S) -> Int? where S.Element == Int {
        var result = 1
        for f in factors {
            guard f >= 0 else { return nil }
            let (p, overflow) = result.multipliedReportingOverflow(by: f)
            if overflow { return nil }
            result = p
        }
        return result
    }

    /// a * b, or nil on overflow or a negative operand.
    static func multiply(_ a: Int, _ b: Int) -> Int? { product([a, b]) }

    /// a + b, or nil on overflow.
    static func add(_ a: Int, _ b: Int) -> Int? {
        let (s, overflow) = a.addingReportingOverflow(b)
        return overflow ? nil : s
    }
}
