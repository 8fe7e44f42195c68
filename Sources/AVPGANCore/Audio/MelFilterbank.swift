#if canImport(Glibc)
import Glibc
#endif

/// The Sphinx-style triangular mel filterbank of the normative front end
/// (`filterbank` in reference/voice_frontend.py), built the same way in Double: filter edges
/// equally spaced on the mel scale `2595 log10(1 + f / 700)` from `lowerHz` to `upperHz`,
/// rounded (half to even, as Python's `round`) to FFT bins of `sampleRate / fftSize` Hz;
/// peak height `2 / (width in Hz)`.
///
/// Stored sparsely: filter `j` has weights `weights[offsets[j] ..< offsets[j + 1]]` for bins
/// `firstBin[j] ...` in order (the bins where the reference's matrix column `j` is nonzero,
/// plus any zeros between). Applied to a power spectrum of `fftSize / 2 + 1` bins it gives
/// `filters` band energies.
struct MelFilterbank: Sendable {
    let filters: Int
    let fftSize: Int
    let firstBin: [Int]
    let offsets: [Int]
    let weights: [Double]
    /// One past the highest bin any filter uses (at most `fftSize / 2 + 1`).
    let binsUsed: Int

    init(filters: Int = LogMelExtractor.bands, lowerHz: Double = 20, upperHz: Double = 7200, sampleRate: Double = 16000, fftSize: Int = 1024) throws {
        guard filters >= 1, fftSize >= 2, lowerHz >= 0, upperHz > lowerHz, upperHz <= sampleRate / 2 else {
            throw AVPGANError.invalid("mel filterbank: need filters >= 1 and 0 <= lowerHz < upperHz <= sampleRate / 2")
        }
        self.filters = filters
        self.fftSize = fftSize
        let bins = fftSize / 2 + 1
        func mel(_ f: Double) -> Double { 2595 * log10(1 + f / 700) }
        func melInverse(_ m: Double) -> Double { 700 * (pow(10, m / 2595) - 1) }
        let dfreq = sampleRate / Double(fftSize)
        let melLow = mel(lowerHz), step = (mel(upperHz) - melLow) / Double(filters + 1)
        let edges = (0..<(filters + 2)).map { melInverse(melLow + step * Double($0)) }
        func bin(_ k: Int) -> Int { Int((edges[k] / dfreq).rounded(.toNearestOrEven)) }
        var first: [Int] = [], offsets = [0], weights: [Double] = []
        var used = 0
        for j in 0..<filters {
            let l = bin(j), c = bin(j + 1), r = bin(j + 2)
            guard l >= 0, c >= l, r >= c, r > l, c < bins else {
                throw AVPGANError.invalid("mel filterbank: filter \(j) has degenerate bins \(l), \(c), \(r)")
            }
            var column = [Double](repeating: 0, count: bins)
            let height = 2 / (Double(r - l) * dfreq)
            let ls = c != l ? height / Double(c - l) : 0
            for f in (l + 1)..<max(c, l + 1) { column[f] = Double(f - l) * ls }
            column[c] = height
            if c != r {
                let rs = height / Double(c - r)
                for f in (c + 1)..<max(r, c + 1) { column[f] = Double(f - r) * rs }
            }
            let lo = column.firstIndex { $0 != 0 } ?? c, hi = column.lastIndex { $0 != 0 } ?? c
            first.append(lo)
            weights += column[lo...hi]
            offsets.append(weights.count)
            used = max(used, hi + 1)
        }
        firstBin = first
        self.offsets = offsets
        self.weights = weights
        binsUsed = used
    }

    /// The dense matrix, `(fftSize / 2 + 1) x filters` row-major, as the reference builds it.
    var dense: [Double] {
        var out = [Double](repeating: 0, count: (fftSize / 2 + 1) * filters)
        for j in 0..<filters {
            for (i, w) in weights[offsets[j]..<offsets[j + 1]].enumerated() { out[(firstBin[j] + i) * filters + j] = w }
        }
        return out
    }
}
