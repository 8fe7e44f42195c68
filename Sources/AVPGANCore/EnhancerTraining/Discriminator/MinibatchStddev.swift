#if canImport(Glibc)
import Glibc
#endif

/// StyleGAN2's minibatch standard deviation (basicsr's StyleGAN2Discriminator, one feature):
/// the N images form `G = min(N, group)` groups of `M = N / G` (image n is member n / M of
/// set n mod M); for each set m, `S[m]` is the mean over channels and positions of
/// `sqrt(var + 1e-8)`, the variance (biased) taken across the set's G images; image n gets a
/// constant extra plane `S[n mod M]`. Maps are CNHW (`FeatureMap`).
enum MinibatchStddev {
    /// The groups' size for a batch of `batch`; nil when the batch is not divisible by it.
    static func groupSize(batch: Int, group: Int) -> Int? {
        let g = min(batch, group)
        return g > 0 && batch % g == 0 ? g : nil
    }

    /// Writes the extra plane of every image, `extra[N, H, W]` (one CNHW channel row).
    static func forward(_ x: FeatureMap, group g: Int, into extra: UnsafeMutablePointer<Float>) {
        let m = x.batch / g, plane = x.plane
        for set in 0..<m {
            var total = 0.0
            for c in 0..<x.channels {
                let row = x.channel(c)
                for p in 0..<plane {
                    let (_, variance) = moments(row, set: set, sets: m, group: g, plane: plane, at: p)
                    total += Double((variance + 1e-8).squareRoot())
                }
            }
            let s = Float(total / Double(x.channels * plane))
            for k in 0..<g { (extra + (k * m + set) * plane).update(repeating: s, count: plane) }
        }
    }

    /// Reverse mode: ADDS to `dx` (the shape of `x`) the gradient through the statistic, from
    /// the extra plane's gradient `gradExtra[N, H, W]`:
    /// `dx = dS[m] / (C P G sd) · (x − mean)` with `dS[m]` the sum of the set's extra gradients.
    static func backward(_ x: FeatureMap, group g: Int, gradExtra: UnsafePointer<Float>, into dx: FeatureMap) {
        let m = x.batch / g, plane = x.plane
        for set in 0..<m {
            var dS = 0.0
            for k in 0..<g { dS += doubleSum(gradExtra + (k * m + set) * plane, count: plane) }
            let scale = Float(dS / Double(x.channels * plane * g))
            for c in 0..<x.channels {
                let row = x.channel(c), grad = dx.channel(c)
                for p in 0..<plane {
                    let (mean, variance) = moments(row, set: set, sets: m, group: g, plane: plane, at: p)
                    let coefficient = scale / (variance + 1e-8).squareRoot()
                    for k in 0..<g {
                        let i = (k * m + set) * plane + p
                        grad[i] += coefficient * (row[i] - mean)
                    }
                }
            }
        }
    }

    /// The mean and (biased) variance, in Float, of position `p` of one channel row across the
    /// `group` images of set `set` (image `k · sets + set`, planes of `plane`).
    @inline(__always)
    private static func moments(_ row: UnsafeMutablePointer<Float>, set: Int, sets m: Int, group g: Int, plane: Int,
                                at p: Int) -> (mean: Float, variance: Float) {
        var mean: Float = 0
        for k in 0..<g { mean += row[(k * m + set) * plane + p] }
        mean /= Float(g)
        var variance: Float = 0
        for k in 0..<g { let d = row[(k * m + set) * plane + p] - mean; variance += d * d }
        return (mean, variance / Float(g))
    }
}
