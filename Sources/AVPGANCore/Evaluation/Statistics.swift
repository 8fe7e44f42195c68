#if canImport(Glibc)
import Glibc
#endif

/// The few statistics the evaluation reports.
public enum Statistics {
    public static func mean(_ x: [Double]) -> Double { x.isEmpty ? .nan : x.reduce(0, +) / Double(x.count) }

    /// Sample standard deviation (n - 1 in the denominator); 0 for fewer than two values.
    public static func standardDeviation(_ x: [Double]) -> Double {
        guard x.count > 1 else { return 0 }
        let m = mean(x)
        return (x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(x.count - 1)).squareRoot()
    }

    /// Student's t quantile t(0.975, df): the standard table for df <= 30, beyond it the
    /// Cornish-Fisher expansion around the normal quantile (error below 1e-4 there).
    public static func t975(df: Int) -> Double {
        let table: [Double] = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                               2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
                               2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042]
        guard df >= 1 else { return .nan }
        if df <= table.count { return table[df - 1] }
        let z = 1.959963984540054, v = Double(df)
        let z3 = z * z * z, z5 = z3 * z * z, z7 = z5 * z * z
        return z + (z3 + z) / (4 * v) + (5 * z5 + 16 * z3 + 3 * z) / (96 * v * v)
            + (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * v * v * v)
    }

    /// The mean of `x` and its two-sided 95 % confidence interval (t distribution, n - 1
    /// degrees of freedom); the interval is (nan, nan) for fewer than two values.
    public static func meanWithCI95(_ x: [Double]) -> (mean: Double, low: Double, high: Double) {
        let m = mean(x)
        guard x.count > 1 else { return (m, .nan, .nan) }
        let half = t975(df: x.count - 1) * standardDeviation(x) / Double(x.count).squareRoot()
        return (m, m - half, m + half)
    }
}
