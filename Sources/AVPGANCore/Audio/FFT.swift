#if canImport(Glibc)
import Glibc
#endif

/// The SIMD vector a batched FFT works on: one lane per independent signal (frame).
typealias FFTLanes = SIMD8<Float>

/// A real-input FFT of a fixed power-of-two size `n` for zero-padded signals (at most `n / 2`
/// nonzero leading samples), computed for `FFTLanes.scalarCount` signals at once (lane `l` of
/// every vector belongs to signal `l`). It runs as a complex FFT of size `m = n / 2` on
/// `x[2k] + i x[2k+1]` (decimation in time, bit-reversed input; a pruned first radix-4 step
/// that knows the upper half of the complex input is zero, then radix-4 steps, a radix-2 step
/// when the stage count is odd), followed by the usual real-FFT split.
///
/// The plan holds only immutable tables (bit reversal, twiddles, all computed in Double and
/// rounded once), so one plan serves any number of threads; each caller supplies its own
/// scratch of `scratchCount` vectors.
struct BatchedRealFFT: Sendable {
    /// The real transform size (1024 for the front end).
    let n: Int
    /// The complex transform size, `n / 2`.
    let m: Int
    /// `bitReverse[q]` for `q < m`, bit reversal over log2(m) bits.
    let bitReverse: [Int32]
    /// The butterfly steps after the first: (half-size h, radix 4 or 2, offset into `twiddles`).
    let steps: [(h: Int, radix: Int, offset: Int)]
    /// Per radix-4 step, for each `j < h`: W1 = exp(-i pi j / h), W2 = exp(-i pi j / 2h),
    /// W3 = W1 W2 as (re, im) pairs (6 floats); per radix-2 step, W = exp(-i pi j / h) (2 floats).
    let twiddles: [Float]
    /// The split twiddles `exp(-2 pi i k / n)` for `k <= m`, as (cos, -sin) pairs.
    let split: [Float]

    /// Vectors of scratch a transform needs (real and imaginary parts, `m` each).
    var scratchCount: Int { 2 * m }

    /// A plan for real signals of `n` samples; `n` must be a power of two from 8 to 2^24.
    init(size n: Int) throws {
        guard n >= 8, n & (n - 1) == 0, n <= 1 << 24 else {
            throw AVPGANError.invalid("FFT size must be a power of two from 8 to 2^24, got \(n)")
        }
        self.n = n
        m = n / 2
        let bits = m.trailingZeroBitCount
        bitReverse = (0..<m).map { i in
            var r = 0, v = i
            for _ in 0..<bits { r = (r << 1) | (v & 1); v >>= 1 }
            return Int32(r)
        }
        func w(_ turns: Double) -> [Float] { [Float(cos(2 * Double.pi * turns)), Float(-sin(2 * Double.pi * turns))] }
        var steps: [(h: Int, radix: Int, offset: Int)] = [], table: [Float] = []
        var h = 4
        while h < m {
            if 4 * h <= m {
                steps.append((h, 4, table.count))
                for j in 0..<h {
                    let t = Double(j) / Double(2 * h)
                    table += w(t) + w(t / 2) + w(3 * t / 2)
                }
                h *= 4
            } else {
                steps.append((h, 2, table.count))
                for j in 0..<h { table += w(Double(j) / Double(2 * h)) }
                h *= 2
            }
        }
        self.steps = steps
        twiddles = table
        split = (0...m).flatMap { w(Double($0) / Double(n)) }
    }

    /// Loads `count <= n / 2` real samples per lane (`x[i]`, `i < count`; the rest of the `n`
    /// are zero) and runs the first two butterfly stages, leaving the result in `scratch`.
    @inline(__always)
    func load(_ x: UnsafePointer<FFTLanes>, count: Int, scratch: UnsafeMutablePointer<FFTLanes>) {
        precondition(count <= m, "BatchedRealFFT: at most n / 2 nonzero samples")
        let re = scratch, im = scratch + m, quarter = m / 4
        @inline(__always) func z(_ k: Int) -> (FFTLanes, FFTLanes) {
            (2 * k < count ? x[2 * k] : .zero, 2 * k + 1 < count ? x[2 * k + 1] : .zero)
        }
        bitReverse.withUnsafeBufferPointer { rev in
            var q = 0
            while q < m {
                // Positions q..q+3 hold z[r], z[r + m/2], z[r + m/4], z[r + 3m/4]; the
                // second and fourth are zero (upper half of the complex input).
                let r = Int(rev[q])
                let (a0r, a0i) = z(r), (a2r, a2i) = z(r + quarter)
                re[q] = a0r + a2r; im[q] = a0i + a2i
                re[q + 2] = a0r - a2r; im[q + 2] = a0i - a2i
                // a0 -/+ i a2
                re[q + 1] = a0r + a2i; im[q + 1] = a0i - a2r
                re[q + 3] = a0r - a2i; im[q + 3] = a0i + a2r
                q += 4
            }
        }
    }

    /// Runs the remaining butterflies on loaded scratch, then writes `4 |X[k]|^2` (four times
    /// the power of bin `k` of the real signal's DFT) for `k < bins` (`bins <= m + 1`) to `power`.
    @inline(__always)
    func powerSpectrum(scratch: UnsafeMutablePointer<FFTLanes>, bins: Int, power: UnsafeMutablePointer<FFTLanes>) {
        let re = scratch, im = scratch + m
        twiddles.withUnsafeBufferPointer { tw in
            for step in steps {
                let h = step.h
                if step.radix == 4 {
                    var base = 0
                    while base < m {
                        var t = step.offset
                        for j in base..<(base + h) {
                            let w1r = tw[t], w1i = tw[t + 1], w2r = tw[t + 2], w2i = tw[t + 3], w3r = tw[t + 4], w3i = tw[t + 5]
                            t += 6
                            let a0r = re[j], a0i = im[j]
                            let a1r = re[j + h], a1i = im[j + h]
                            let a2r = re[j + 2 * h], a2i = im[j + 2 * h]
                            let a3r = re[j + 3 * h], a3i = im[j + 3 * h]
                            let b1r = a1r * w1r - a1i * w1i, b1i = a1r * w1i + a1i * w1r
                            let b2r = a2r * w2r - a2i * w2i, b2i = a2r * w2i + a2i * w2r
                            let b3r = a3r * w3r - a3i * w3i, b3i = a3r * w3i + a3i * w3r
                            let t0r = a0r + b1r, t0i = a0i + b1i, t1r = a0r - b1r, t1i = a0i - b1i
                            let u0r = b2r + b3r, u0i = b2i + b3i, u1r = b2r - b3r, u1i = b2i - b3i
                            re[j] = t0r + u0r; im[j] = t0i + u0i
                            re[j + 2 * h] = t0r - u0r; im[j + 2 * h] = t0i - u0i
                            // t1 -/+ i u1
                            re[j + h] = t1r + u1i; im[j + h] = t1i - u1r
                            re[j + 3 * h] = t1r - u1i; im[j + 3 * h] = t1i + u1r
                        }
                        base += 4 * h
                    }
                } else {
                    var base = 0
                    while base < m {
                        var t = step.offset
                        for a in base..<(base + h) {
                            let wr = tw[t], wi = tw[t + 1]
                            t += 2
                            let b = a + h
                            let br = re[b], bi = im[b]
                            let tr = br * wr - bi * wi, ti = br * wi + bi * wr
                            let ar = re[a], ai = im[a]
                            re[b] = ar - tr; im[b] = ai - ti
                            re[a] = ar + tr; im[a] = ai + ti
                        }
                        base += 2 * h
                    }
                }
            }
        }
        // Split: 2 X[k] = (Z[k] + conj Z[m-k]) + W^k (-i) (Z[k] - conj Z[m-k]), W = exp(-2 pi i / n).
        split.withUnsafeBufferPointer { w in
            for k in 0..<bins {
                let k1 = k == m ? 0 : k, k2 = k == 0 ? 0 : m - k
                let zr = re[k1], zi = im[k1], cr = re[k2], ci = -im[k2]
                let er = zr + cr, ei = zi + ci
                // o = -i (z - c) = (zi - ci, cr - zr)
                let or = zi - ci, oi = cr - zr
                let wr = w[2 * k], wi = w[2 * k + 1]
                let xr = er + or * wr - oi * wi
                let xi = ei + or * wi + oi * wr
                power[k] = xr * xr + xi * xi
            }
        }
    }
}
