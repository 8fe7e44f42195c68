#if canImport(Glibc)
import Glibc
#endif

/// The SIMD vector a batched FFT works on: one lane per independent signal (frame).
typealias FFTLanes = SIMD8<Float>

/// A real-input FFT of a fixed power-of-two size `n`, computed for `FFTLanes.scalarCount`
/// signals at once (lane `l` of every vector belongs to signal `l`), as a complex FFT of
/// size `n / 2` (radix-2, decimation in time, bit-reversed input) plus the usual real-FFT
/// split. The plan holds only immutable tables (bit reversal, twiddles), so one plan serves
/// any number of threads; the caller supplies the scratch (`scratchCount` vectors).
struct BatchedRealFFT: Sendable {
    /// The real transform size (1024 for the front end).
    let n: Int
    /// The complex transform size, `n / 2`.
    let m: Int
    /// `bitReverse[i]`: where complex input `i` goes before the butterflies (size `m`).
    let bitReverse: [Int32]
    /// Twiddles of all butterfly stages, stage with half-size `h` at offset `h - 1`:
    /// `exp(-i pi j / h)`, `j < h`.
    let stageCos: [Float], stageSin: [Float]
    /// The split twiddles `exp(-2 pi i k / n)`, `k <= m`.
    let splitCos: [Float], splitSin: [Float]

    /// Vectors of scratch a `powerSpectrum` call needs (real and imaginary parts, `m` each).
    var scratchCount: Int { 2 * m }

    /// A plan for real signals of `n` samples; `n` must be a power of two, at least 8.
    init(size n: Int) throws {
        guard n >= 8, n & (n - 1) == 0, n <= 1 << 24 else {
            throw AVPGANError.invalid("FFT size must be a power of two from 8 to 2^24, got \(n)")
        }
        self.n = n
        m = n / 2
        let bits = m.trailingZeroBitCount
        var rev = [Int32](repeating: 0, count: m)
        for i in 0..<m {
            var r = 0, v = i
            for _ in 0..<bits { r = (r << 1) | (v & 1); v >>= 1 }
            rev[i] = Int32(r)
        }
        bitReverse = rev
        var sc = [Float](repeating: 0, count: max(m - 1, 1)), ss = sc
        var h = 1
        while h < m {
            for j in 0..<h {
                let angle = Double.pi * Double(j) / Double(h)
                sc[h - 1 + j] = Float(cos(angle))
                ss[h - 1 + j] = Float(-sin(angle))
            }
            h *= 2
        }
        stageCos = sc
        stageSin = ss
        splitCos = (0...m).map { Float(cos(2 * Double.pi * Double($0) / Double(n))) }
        splitSin = (0...m).map { Float(-sin(2 * Double.pi * Double($0) / Double(n))) }
    }

    /// Loads real input: `x(i)` for `i < count` (the rest of the `n` samples are zero) into
    /// `scratch` as the bit-reversed complex sequence `x[2k] + i x[2k+1]`.
    @inline(__always)
    func load(count: Int, scratch: UnsafeMutablePointer<FFTLanes>, _ x: (Int) -> FFTLanes) {
        let re = scratch, im = scratch + m
        re.update(repeating: .zero, count: 2 * m)
        bitReverse.withUnsafeBufferPointer { rev in
            var k = 0
            while 2 * k < count {
                let at = Int(rev[k])
                re[at] = x(2 * k)
                im[at] = 2 * k + 1 < count ? x(2 * k + 1) : .zero
                k += 1
            }
        }
    }

    /// Runs the butterflies on loaded scratch, then writes `4 |X[k]|^2` (four times the power
    /// of bin `k` of the real signal's DFT) for `k < bins` (`bins <= m + 1`) to `power`.
    @inline(__always)
    func powerSpectrum(scratch: UnsafeMutablePointer<FFTLanes>, bins: Int, power: UnsafeMutablePointer<FFTLanes>) {
        let re = scratch, im = scratch + m
        // The first two stages together: a radix-4 step needing no multiplications.
        var q = 0
        while q < m {
            let a0r = re[q], a0i = im[q], a1r = re[q + 1], a1i = im[q + 1]
            let a2r = re[q + 2], a2i = im[q + 2], a3r = re[q + 3], a3i = im[q + 3]
            let s0r = a0r + a1r, s0i = a0i + a1i, d0r = a0r - a1r, d0i = a0i - a1i
            let s1r = a2r + a3r, s1i = a2i + a3i, d1r = a2r - a3r, d1i = a2i - a3i
            re[q] = s0r + s1r; im[q] = s0i + s1i
            re[q + 2] = s0r - s1r; im[q + 2] = s0i - s1i
            // (d1) * (-i) = (d1i, -d1r)
            re[q + 1] = d0r + d1i; im[q + 1] = d0i - d1r
            re[q + 3] = d0r - d1i; im[q + 3] = d0i + d1r
            q += 4
        }
        stageCos.withUnsafeBufferPointer { wc in
            stageSin.withUnsafeBufferPointer { ws in
                var h = 4
                while h < m {
                    var base = 0
                    while base < m {
                        for j in 0..<h {
                            let wr = wc[h - 1 + j], wi = ws[h - 1 + j]
                            let a = base + j, b = a + h
                            let br = re[b], bi = im[b]
                            let tr = br * wr - bi * wi, ti = br * wi + bi * wr
                            let ar = re[a], ai = im[a]
                            re[b] = ar - tr; im[b] = ai - ti
                            re[a] = ar + tr; im[a] = ai + ti
                        }
                        base += 2 * h
                    }
                    h *= 2
                }
            }
        }
        // Split: 2 X[k] = (Z[k] + conj Z[m-k]) + W^k (-i) (Z[k] - conj Z[m-k]), W = exp(-2 pi i / n).
        splitCos.withUnsafeBufferPointer { c in
            splitSin.withUnsafeBufferPointer { s in
                for k in 0..<bins {
                    let k1 = k == m ? 0 : k, k2 = k == 0 ? 0 : m - k
                    let zr = re[k1], zi = im[k1], cr = re[k2], ci = -im[k2]
                    let er = zr + cr, ei = zi + ci
                    let dr = zr - cr, di = zi - ci
                    // o = -i d = (di, -dr)
                    let or = di, oi = -dr
                    let wr = c[k], wi = s[k]
                    let xr = er + or * wr - oi * wi
                    let xi = ei + or * wi + oi * wr
                    power[k] = xr * xr + xi * xi
                }
            }
        }
    }
}
