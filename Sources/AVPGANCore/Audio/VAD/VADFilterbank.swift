/// Halves the sample rate with two first-order all-pass branches (even and odd samples)
/// whose outputs are summed: the detector's 32 -> 16 and 16 -> 8 kHz decimator.
/// Its state (one 32-bit value per branch) carries from frame to frame.
struct VADHalfRateDecimator {
    private var evenState: Int32 = 0
    private var oddState: Int32 = 0

    // All-pass coefficients of the two branches, Q13.
    private static let evenCoefficient: Int32 = 5243
    private static let oddCoefficient: Int32 = 1392

    /// Reads `inputCount` samples (even) from `input`, writes `inputCount / 2` to `output`.
    @inline(__always)
    mutating func run(_ input: UnsafePointer<Int16>, inputCount: Int, into output: UnsafeMutablePointer<Int16>) {
        let c0 = Self.evenCoefficient, c1 = Self.oddCoefficient
        var s0 = evenState, s1 = oddState
        for n in 0..<(inputCount >> 1) {
            let x0 = Int32(input[2 * n]), x1 = Int32(input[2 * n + 1])
            let y0 = VADFixedPoint.s16((s0 >> 1) &+ ((c0 &* x0) >> 14))
            s0 = x0 &- ((c0 &* Int32(y0)) >> 12)
            let y1 = VADFixedPoint.s16((s1 >> 1) &+ ((c1 &* x1) >> 14))
            s1 = x1 &- ((c1 &* Int32(y1)) >> 12)
            output[n] = VADFixedPoint.s16(Int32(y0) &+ Int32(y1))
        }
        evenState = s0
        oddState = s1
    }
}

/// Splits an 8 kHz frame into six sub-bands (80-250, 250-500, 500-1000, 1000-2000,
/// 2000-3000 and 3000-4000 Hz) with a tree of half-band all-pass splits plus a final
/// high-pass, and measures each band's log energy.
///
/// Each feature is the band's energy in decibels, `10 * log10(energy)`, in Q4 (1/16 dB), from
/// a piecewise-linear log2, plus a per-band offset. The frame's "total energy" is a small
/// measure, only accumulated up to just past `minimumEnergy`, that tells near-silent frames
/// apart. Filter states carry from frame to frame.
final class VADFilterbank {
    /// Number of sub-bands (features per frame).
    static let bandCount = 6

    // Split filter states: one all-pass state per split stage for each branch.
    private var upperStates: (Int16, Int16, Int16, Int16, Int16) = (0, 0, 0, 0, 0)
    private var lowerStates: (Int16, Int16, Int16, Int16, Int16) = (0, 0, 0, 0, 0)
    // Second-order high-pass state: two past inputs, two past outputs.
    private var hpIn1: Int16 = 0, hpIn2: Int16 = 0, hpOut1: Int16 = 0, hpOut2: Int16 = 0

    // Scratch for the split outputs: a frame is at most 240 samples at 8 kHz.
    private let scratch: UnsafeMutablePointer<Int16>
    private var upperA: UnsafeMutablePointer<Int16> { scratch }
    private var lowerA: UnsafeMutablePointer<Int16> { scratch + 120 }
    private var upperB: UnsafeMutablePointer<Int16> { scratch + 240 }
    private var lowerB: UnsafeMutablePointer<Int16> { scratch + 300 }

    /// Offsets added to each band's log energy (index 0 = lowest band), Q4.
    private static let bandOffsets: (Int16, Int16, Int16, Int16, Int16, Int16) = (368, 368, 272, 176, 176, 176)
    /// Energies at or below this count as silence.
    static let minimumEnergy: Int16 = 10

    init() {
        scratch = .allocate(capacity: 360)
        scratch.initialize(repeating: 0, count: 360)
    }

    deinit { scratch.deallocate() }

    /// Clears every filter state, as for a new stream.
    func reset() {
        upperStates = (0, 0, 0, 0, 0)
        lowerStates = (0, 0, 0, 0, 0)
        hpIn1 = 0; hpIn2 = 0; hpOut1 = 0; hpOut2 = 0
    }

    /// Splits `count` samples into an upper and a lower half band of `count / 2` samples each.
    ///
    /// Even samples go through a first-order all-pass with coefficient 20972 (Q15), odd ones
    /// through one with 5571; their difference is the upper band, their sum the lower. Each
    /// all-pass keeps its state on the Q(-1) scale between frames. The two branches run in
    /// one loop so their recursions overlap.
    @inline(__always)
    private static func split(_ input: UnsafePointer<Int16>, count: Int, upperState: inout Int16, lowerState: inout Int16,
                              upper: UnsafeMutablePointer<Int16>, lower: UnsafeMutablePointer<Int16>) {
        let cu: Int32 = 20972, cl: Int32 = 5571
        var accU = Int32(upperState) << 16, accL = Int32(lowerState) << 16
        for i in 0..<(count >> 1) {
            let xu = Int32(input[2 * i]), xl = Int32(input[2 * i + 1])
            let yu = VADFixedPoint.s16((accU &+ cu &* xu) >> 16)
            let yl = VADFixedPoint.s16((accL &+ cl &* xl) >> 16)
            accU = ((xu << 14) &- cu &* Int32(yu)) &* 2
            accL = ((xl << 14) &- cl &* Int32(yl)) &* 2
            upper[i] = VADFixedPoint.s16(Int32(yu) &- Int32(yl))
            lower[i] = VADFixedPoint.s16(Int32(yl) &+ Int32(yu))
        }
        upperState = VADFixedPoint.s16(accU >> 16)
        lowerState = VADFixedPoint.s16(accL >> 16)
    }

    /// The second-order high-pass (cut near 80 Hz at the 250 Hz-wide band's rate).
    @inline(__always)
    private func highPass(_ input: UnsafePointer<Int16>, count: Int, into output: UnsafeMutablePointer<Int16>) {
        for i in 0..<count {
            let x = input[i]
            var acc = 6631 &* Int32(x) &- 13262 &* Int32(hpIn1) &+ 6631 &* Int32(hpIn2)
            hpIn2 = hpIn1
            hpIn1 = x
            acc = acc &+ 7756 &* Int32(hpOut1) &- 5620 &* Int32(hpOut2)
            hpOut2 = hpOut1
            hpOut1 = VADFixedPoint.s16(acc >> 14)
            output[i] = hpOut1
        }
    }

    /// The log energy of `count` samples plus `offset` (Q4), never below `offset`; also adds to
    /// `totalEnergy` while it is still at or below the silence limit.
    @inline(__always)
    private static func logEnergy(_ x: UnsafePointer<Int16>, count: Int, offset: Int16, totalEnergy: inout Int16) -> Int16 {
        var (energy, shift) = VADFixedPoint.scaledEnergy(x, count: count)
        guard energy != 0 else { return offset }
        // Normalise the energy to 15 significant bits; the bits below the leading one give a
        // linear approximation of the fractional part of log2.
        let normalise = 17 - VADFixedPoint.headroom(energy)
        shift += normalise
        if normalise < 0 { energy <<= UInt32(-normalise) } else { energy >>= UInt32(normalise) }
        let log2Q10 = Int16(14 << 10) &+ Int16(truncatingIfNeeded: (energy & 0x3FFF) >> 4)
        // 160 * log10(2) in Q9.
        let log10Scale: Int32 = 24660
        var result = VADFixedPoint.s16(((log10Scale &* Int32(log2Q10)) >> 19) &+ ((shift &* log10Scale) >> 9))
        if result < 0 { result = 0 }
        result = result &+ offset
        if totalEnergy <= minimumEnergy {
            if shift >= 0 {
                totalEnergy = totalEnergy &+ (minimumEnergy + 1)
            } else {
                totalEnergy = totalEnergy &+ Int16(truncatingIfNeeded: energy >> UInt32(-shift))
            }
        }
        return result
    }

    /// Computes the six band features of one 8 kHz frame of `count` samples (80, 160 or 240)
    /// into `features` (index 0 = lowest band) and returns the frame's total-energy measure.
    func features(of frame: UnsafePointer<Int16>, count: Int, into features: UnsafeMutablePointer<Int16>) -> Int16 {
        var total: Int16 = 0
        let offsets = Self.bandOffsets
        let half = count >> 1, quarter = count >> 2, eighth = count >> 3, sixteenth = count >> 4

        // 0-4 kHz -> 2-4 kHz (A upper) and 0-2 kHz (A lower).
        Self.split(frame, count: count, upperState: &upperStates.0, lowerState: &lowerStates.0, upper: upperA, lower: lowerA)
        // 2-4 kHz -> 3-4 kHz and 2-3 kHz.
        Self.split(upperA, count: half, upperState: &upperStates.1, lowerState: &lowerStates.1, upper: upperB, lower: lowerB)
        features[5] = Self.logEnergy(upperB, count: quarter, offset: offsets.5, totalEnergy: &total)
        features[4] = Self.logEnergy(lowerB, count: quarter, offset: offsets.4, totalEnergy: &total)
        // 0-2 kHz -> 1-2 kHz and 0-1 kHz.
        Self.split(lowerA, count: half, upperState: &upperStates.2, lowerState: &lowerStates.2, upper: upperB, lower: lowerB)
        features[3] = Self.logEnergy(upperB, count: quarter, offset: offsets.3, totalEnergy: &total)
        // 0-1 kHz -> 500-1000 Hz and 0-500 Hz.
        Self.split(lowerB, count: quarter, upperState: &upperStates.3, lowerState: &lowerStates.3, upper: upperA, lower: lowerA)
        features[2] = Self.logEnergy(upperA, count: eighth, offset: offsets.2, totalEnergy: &total)
        // 0-500 Hz -> 250-500 Hz and 0-250 Hz.
        Self.split(lowerA, count: eighth, upperState: &upperStates.4, lowerState: &lowerStates.4, upper: upperB, lower: lowerB)
        features[1] = Self.logEnergy(upperB, count: sixteenth, offset: offsets.1, totalEnergy: &total)
        // 0-250 Hz -> 80-250 Hz.
        highPass(lowerB, count: sixteenth, into: upperA)
        features[0] = Self.logEnergy(upperA, count: sixteenth, offset: offsets.0, totalEnergy: &total)
        return total
    }
}
