#if canImport(Glibc)
import Glibc
#endif

/// The log-mel front end of the normative reference (`logspec` and `fbank` in
/// reference/voice_frontend.py), number for number:
///
/// - input: 16 kHz mono samples on the int16 scale (-32768...32767), as `Float` or `Int16`;
/// - frames: `samples / 160 + 1` of them, frame `t` is samples `160 t ..< 160 t + 400`; a last
///   frame with fewer than 400 samples left is filled by repeating those samples cyclically
///   (`numpy.resize`), one with none left is zeros;
/// - pre-emphasis `y[i] = x[i] - 0.97 x[i - 1]`, where `x[-1]` of frame `t` is the last
///   (400th, after any cyclic fill) sample of frame `t - 1`, and 0 for frame 0;
/// - 400-sample Hamming window (`0.54 - 0.46 cos(2 pi i / 399)`), zero-padded 1024-point real
///   FFT, power spectrum, 64 triangular Sphinx mel filters 20-7200 Hz (`MelFilterbank`),
///   natural log clipped below at `ln 1e-5`;
/// - `features`: per band, minus its mean over frames, divided by (its population standard
///   deviation + `Float.ulpOfOne`); then, when fewer than 1000 frames, the whole sequence
///   repeated and cut at 1000 frames.
///
/// Results are `frames x 64`, frame-major (`values[t * 64 + band]`), as the reference's
/// `frames x 64` arrays. The extractor holds only immutable tables, so one instance may be
/// used from any number of threads at once; every call allocates its own scratch (per call
/// and per worker thread, never per frame). The frames are spread over `Threads.count` threads.
///
/// Precision: everything per frame runs in Float (tables computed in Double and rounded once);
/// the pre-emphasis is evaluated as `(x[i] - x[i-1]) + 0.03 x[i-1]`, exact but for the small
/// term on int16-scale integers. Normalisation statistics are accumulated in Double. The
/// unnormalised log spectrum matches the float64 reference to float32 FFT rounding (see
/// LogMelTests for the measured error and the tolerance's justification).
public final class LogMelExtractor: Sendable {
    /// The only input rate: 16 kHz.
    public static let sampleRate = 16000
    /// Mel bands per frame.
    public static let bands = 64
    /// Samples per analysis window.
    public static let windowLength = 400
    /// Samples between frame starts.
    public static let hop = 160
    /// The FFT size; each window is zero-padded to it.
    public static let fftSize = 1024
    /// `features` repeats shorter sequences up to this many frames.
    public static let minimumFrames = 1000
    /// The pre-emphasis coefficient.
    public static let preEmphasis = 0.97

    let fft: BatchedRealFFT
    let filterbank: MelFilterbank
    /// The filter weights as Float, times 1/4 (the FFT returns four times the power).
    let weights: [Float]
    /// The Hamming window, `numpy.hamming(400)` (computed in Double, rounded to Float).
    let windowF: [Float]

    /// Builds the tables (filterbank, window, FFT twiddles).
    public init() throws {
        fft = try BatchedRealFFT(size: Self.fftSize)
        filterbank = try MelFilterbank(filters: Self.bands, lowerHz: 20, upperHz: 7200,
                                       sampleRate: Double(Self.sampleRate), fftSize: Self.fftSize)
        weights = filterbank.weights.map { Float($0 * 0.25) }
        let n = Self.windowLength
        windowF = (0..<n).map { Float(0.54 - 0.46 * cos(2 * Double.pi * Double($0) / Double(n - 1))) }
    }

    /// The number of frames `logSpectrum` gives for `samples` samples: `samples / 160 + 1`.
    public static func frameCount(samples: Int) -> Int { samples / hop + 1 }

    /// How many leading samples `seconds` selects from `available`: `floor(seconds * 16000)`,
    /// at most `available`; nil means all of them.
    static func sampleCount(_ available: Int, seconds: Double?) throws -> Int {
        guard let seconds else { return available }
        guard seconds.isFinite, seconds > 0 else {
            throw AVPGANError.invalid("log-mel: seconds must be a positive finite number, got \(seconds)")
        }
        let wanted = (seconds * Double(sampleRate)).rounded(.down)
        guard wanted >= 1 else {
            throw AVPGANError.invalid("log-mel: seconds = \(seconds) selects no samples (at least 1/16000 s needed)")
        }
        return wanted >= Double(available) ? available : Int(wanted)
    }

    /// Rejects empty input and NaN or infinite samples (naming the first such index, counted
    /// from `first`: the index of `samples[0]` in the whole signal).
    static func validate(_ samples: UnsafeBufferPointer<Float>, first: Int = 0) throws {
        guard !samples.isEmpty else { throw AVPGANError.invalid("log-mel: no samples (empty input)") }
        // Any NaN or infinity makes x * 0 NaN: scan eight at a time, then find the index.
        var acc = SIMD8<Float>.zero
        let raw = UnsafeRawPointer(samples.baseAddress!)
        var i = 0
        while i + 8 <= samples.count {
            acc += raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self) * 0
            i += 8
        }
        var tail: Float = 0
        while i < samples.count { tail += samples[i] * 0; i += 1 }
        if !acc.sum().isNaN && !tail.isNaN { return }
        for i in 0..<samples.count where !samples[i].isFinite {
            throw AVPGANError.invalid("log-mel: sample \(first + i) is \(samples[i].isNaN ? "NaN" : "infinite"); samples must be finite, on the int16 scale")
        }
    }

    /// The unnormalised log-mel spectrum (`logspec` of the reference): `frames x 64`
    /// frame-major natural logs of the band energies, `frames = samples.count / 160 + 1`.
    /// `samples`: 16 kHz mono on the int16 scale, finite, at least one. Throws
    /// `invalidArgument` for empty input or a non-finite sample.
    public func logSpectrum(_ samples: UnsafeBufferPointer<Float>) throws -> (values: [Float], frames: Int) {
        try Self.validate(samples)
        let frames = Self.frameCount(samples: samples.count)
        var out = [Float](repeating: 0, count: frames * Self.bands)
        let groups = (frames + FFTLanes.scalarCount - 1) / FFTLanes.scalarCount
        out.withUnsafeMutableBufferPointer {
            compute(samples.baseAddress!, count: samples.count, frames: frames, groups: 0..<groups, into: $0.baseAddress!)
        }
        return (out, frames)
    }

    /// `logSpectrum` of `Int16` samples.
    public func logSpectrum(_ samples: [Int16]) throws -> (values: [Float], frames: Int) {
        try samples.map(Float.init).withUnsafeBufferPointer { try logSpectrum($0) }
    }

    /// `logSpectrum` of `Float` samples on the int16 scale.
    public func logSpectrum(_ samples: [Float]) throws -> (values: [Float], frames: Int) {
        try samples.withUnsafeBufferPointer { try logSpectrum($0) }
    }

    /// The normalised features (`fbank` of the reference) of the first `seconds` seconds of
    /// `samples` (all of them when nil): `frames x 64` frame-major, each band with zero mean
    /// and unit standard deviation over the `samples / 160 + 1` computed frames, then repeated
    /// cyclically to `frames = max(that, 1000)`. `samples`: 16 kHz mono on the int16 scale
    /// (already voice-activity filtered, if that is wanted). Throws `invalidArgument` for empty
    /// input, a non-finite sample among those used (naming its index), or `seconds` not
    /// positive and finite.
    public func features(_ samples: UnsafeBufferPointer<Float>, seconds: Double? = nil) throws -> (values: [Float], frames: Int) {
        let used = UnsafeBufferPointer(rebasing: samples[0..<(try Self.sampleCount(samples.count, seconds: seconds))])
        let (spectrum, computed) = try logSpectrum(used)
        return (Self.normalise(spectrum, frames: computed), max(computed, Self.minimumFrames))
    }

    /// `features` of `Int16` samples.
    public func features(_ samples: [Int16], seconds: Double? = nil) throws -> (values: [Float], frames: Int) {
        let count = try Self.sampleCount(samples.count, seconds: seconds)
        return try samples[0..<count].map(Float.init).withUnsafeBufferPointer { try features($0) }
    }

    /// `features` of `Float` samples on the int16 scale.
    public func features(_ samples: [Float], seconds: Double? = nil) throws -> (values: [Float], frames: Int) {
        try samples.withUnsafeBufferPointer { try features($0, seconds: seconds) }
    }

    /// Per-band mean/std normalisation (statistics in Double), then the repeat-to-1000 rule.
    /// With 1000 frames or more the result is written over `spectrum` (no second copy).
    static func normalise(_ spectrum: consuming [Float], frames: Int) -> [Float] {
        let b = bands
        var mean = [Double](repeating: 0, count: b), variance = [Double](repeating: 0, count: b)
        for t in 0..<frames { for j in 0..<b { mean[j] += Double(spectrum[t * b + j]) } }
        for j in 0..<b { mean[j] /= Double(frames) }
        for t in 0..<frames {
            for j in 0..<b { let d = Double(spectrum[t * b + j]) - mean[j]; variance[j] += d * d }
        }
        let eps = Double(Float.ulpOfOne)
        let scale = variance.map { 1 / ((($0 / Double(frames)).squareRoot()) + eps) }
        let total = max(frames, minimumFrames)
        if frames >= minimumFrames {
            spectrum.withUnsafeMutableBufferPointer { o in
                for t in 0..<frames {
                    for j in 0..<b { o[t * b + j] = Float((Double(o[t * b + j]) - mean[j]) * scale[j]) }
                }
            }
            return spectrum
        }
        var out = [Float](repeating: 0, count: total * b)
        out.withUnsafeMutableBufferPointer { o in
            for t in 0..<frames {
                for j in 0..<b { o[t * b + j] = Float((Double(spectrum[t * b + j]) - mean[j]) * scale[j]) }
            }
            var t = frames
            while t < total {
                let n = min(frames, total - t)
                (o.baseAddress! + t * b).update(from: o.baseAddress!, count: n * b)
                t += n
            }
        }
        return out
    }

    /// Fills the rows of the frames in `groups` (frame groups of `FFTLanes.scalarCount`, frame
    /// `t` in group `t / 8`) of `out` (`frames x 64`, row `t` at `out + 64 t`) with the log
    /// spectrum of a signal of `n` validated samples, `base[i]` being sample `i`. Reads samples
    /// from `160 (8 first - 1)` on, where `first` is the first group, so `base` may point before
    /// memory that begins there (LogMelStream). Each frame's result depends only on the samples,
    /// `n` and its index, never on the other frames computed in the call.
    func compute(_ base: UnsafePointer<Float>, count n: Int, frames: Int, groups: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        let lanes = FFTLanes.scalarCount
        let wlen = Self.windowLength, hop = Self.hop, b = Self.bands
        let binsUsed = filterbank.binsUsed
        let fft = self.fft
        // y[i] = x[i] - 0.97 x[i-1], written (x[i] - x[i-1]) + 0.03 x[i-1]: for int16-scale
        // integers the difference is exact in Float and only the small term rounds.
        let rest = Float(1 - Self.preEmphasis)
        let floor = FFTLanes(repeating: 1e-5)
        windowF.withUnsafeBufferPointer { win in
            weights.withUnsafeBufferPointer { w in
                filterbank.offsets.withUnsafeBufferPointer { offsets in
                    filterbank.firstBin.withUnsafeBufferPointer { firstBin in
                        parallelBlocks(groups.count, costPerItem: 200_000) { blocks in
                            let range = (groups.lowerBound + blocks.lowerBound)..<(groups.lowerBound + blocks.upperBound)
                            let scratch = UnsafeMutablePointer<FFTLanes>.allocate(capacity: fft.scratchCount + binsUsed + wlen + b)
                            defer { scratch.deallocate() }
                            let power = scratch + fft.scratchCount, frame = power + binsUsed, bandsOut = frame + wlen
                            let frameF = UnsafeMutableRawPointer(frame).assumingMemoryBound(to: Float.self)
                            let bandsF = UnsafeMutableRawPointer(bandsOut).assumingMemoryBound(to: Float.self)
                            for g in range {
                                let first = g * lanes
                                if lanes == 8, first + lanes <= frames, n - (first + lanes - 1) * hop >= wlen {
                                    Self.fullFrames(base + first * hop, first: first, hop: hop, window: win.baseAddress!, into: frame)
                                } else {
                                for lane in 0..<lanes {
                                    let t = g * lanes + lane
                                    let start = t * hop, left = n - start
                                    if t >= frames {
                                        for i in 0..<wlen { frameF[i * lanes + lane] = 0 }
                                        continue
                                    }
                                    // The prior sample: the last of frame t - 1 (after its cyclic fill).
                                    var prior: Float = 0
                                    if t > 0 {
                                        let pleft = left + hop
                                        prior = base[start - hop + (pleft >= wlen ? wlen - 1 : (wlen - 1) % pleft)]
                                    }
                                    if left >= wlen {
                                        let x = base + start
                                        var prev = prior
                                        var to = frameF + lane
                                        for i in 0..<wlen {
                                            let xi = x[i]
                                            to.pointee = ((xi - prev) + rest * prev) * win[i]
                                            to += lanes
                                            prev = xi
                                        }
                                    } else if left == 0 {
                                        // An empty frame is zeros, but its first sample still
                                        // subtracts 0.97 times the prior one.
                                        for i in 0..<wlen { frameF[i * lanes + lane] = 0 }
                                        frameF[lane] = ((0 - prior) + rest * prior) * win[0]
                                    } else {
                                        var prev = prior
                                        for i in 0..<wlen {
                                            let xi = base[start + i % left]
                                            frameF[i * lanes + lane] = ((xi - prev) + rest * prev) * win[i]
                                            prev = xi
                                        }
                                    }
                                }
                                }
                                fft.load(frame, count: wlen, scratch: scratch)
                                fft.powerSpectrum(scratch: scratch, bins: binsUsed, power: power)
                                for j in 0..<b {
                                    var acc = FFTLanes.zero
                                    let lo = offsets[j], hi = offsets[j + 1], f0 = firstBin[j] - lo
                                    for k in lo..<hi { acc += power[f0 + k] * w[k] }
                                    bandsOut[j] = naturalLog(pointwiseMax(acc, floor))
                                }
                                let valid = min(lanes, frames - g * lanes)
                                for lane in 0..<valid {
                                    let row = out + (g * lanes + lane) * b
                                    for j in 0..<b { row[j] = bandsF[j * lanes + lane] }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

extension LogMelExtractor {
    /// Pre-emphasis and window of eight whole frames (`first ..< first + 8`, all 400 samples
    /// present; `x` points at frame `first`'s first sample), eight samples of a frame at a time,
    /// transposed into lane order: `frame[i][l]` = windowed sample `i` of frame `first + l`.
    @inline(__always)
    static func fullFrames(_ x: UnsafePointer<Float>, first: Int, hop: Int, window: UnsafePointer<Float>, into frame: UnsafeMutablePointer<FFTLanes>) {
        typealias V = SIMD8<Float>
        let rest = V(repeating: Float(1 - preEmphasis))
        let raw = UnsafeRawPointer(x)
        let wlen = windowLength
        var rows = (V.zero, V.zero, V.zero, V.zero, V.zero, V.zero, V.zero, V.zero)
        withUnsafeMutableBytes(of: &rows) { rowBytes in
            let row = rowBytes.baseAddress!.assumingMemoryBound(to: V.self)
            var c = 0
            while c < wlen {
                let w = UnsafeRawPointer(window).loadUnaligned(fromByteOffset: 4 * c, as: V.self)
                for l in 0..<8 {
                    let at = l * hop + c
                    let xs = raw.loadUnaligned(fromByteOffset: 4 * at, as: V.self)
                    var ps: V
                    if c == 0 {
                        // The prior sample is the previous frame's last, not x[-1].
                        let t = first + l
                        let prior: Float = t == 0 ? 0 : x[at - hop + wlen - 1]
                        ps = V(prior, xs[0], xs[1], xs[2], xs[3], xs[4], xs[5], xs[6])
                    } else {
                        ps = raw.loadUnaligned(fromByteOffset: 4 * (at - 1), as: V.self)
                    }
                    row[l] = ((xs - ps) + rest * ps) * w
                }
                // 8 x 8 transpose: three rounds of deinterleaving (each rotates the 6 index bits).
                for _ in 0..<3 {
                    let v0 = row[0], v1 = row[1], v2 = row[2], v3 = row[3], v4 = row[4], v5 = row[5], v6 = row[6], v7 = row[7]
                    row[0] = V(lowHalf: v0.evenHalf, highHalf: v1.evenHalf)
                    row[1] = V(lowHalf: v2.evenHalf, highHalf: v3.evenHalf)
                    row[2] = V(lowHalf: v4.evenHalf, highHalf: v5.evenHalf)
                    row[3] = V(lowHalf: v6.evenHalf, highHalf: v7.evenHalf)
                    row[4] = V(lowHalf: v0.oddHalf, highHalf: v1.oddHalf)
                    row[5] = V(lowHalf: v2.oddHalf, highHalf: v3.oddHalf)
                    row[6] = V(lowHalf: v4.oddHalf, highHalf: v5.oddHalf)
                    row[7] = V(lowHalf: v6.oddHalf, highHalf: v7.oddHalf)
                }
                for i in 0..<8 { frame[c + i] = row[i] }
                c += 8
            }
        }
    }
}

/// The natural logarithm of positive normal floats, lane by lane: the mantissa is reduced to
/// [sqrt(1/2), sqrt 2) with integer arithmetic only (as musl's `logf`), then Cephes' degree-8
/// polynomial for log(1 + f); error about 1 ulp. Written without lane masks, which Swift's
/// generic SIMD code would split into scalars.
@inline(__always)
func naturalLog(_ v: FFTLanes) -> FFTLanes {
    typealias Bits = SIMD8<Int32>
    let bits = unsafeBitCast(v, to: Bits.self) &+ (0x3F80_0000 - 0x3F35_04F3)
    let k = (bits &>> 23) &- 0x7F
    let x = unsafeBitCast((bits & 0x007F_FFFF) &+ 0x3F35_04F3, to: FFTLanes.self) - 1
    // Float(k) for |k| < 2^22: the integer in the low mantissa bits of 1.5 * 2^23.
    let fe = unsafeBitCast(k &+ 0x4B40_0000, to: FFTLanes.self) - 12_582_912
    let z = x * x
    var y: FFTLanes = FFTLanes(repeating: 7.0376836292e-2) * x - 1.1514610310e-1
    y = y * x + 1.1676998740e-1
    y = y * x - 1.2420140846e-1
    y = y * x + 1.4249322787e-1
    y = y * x - 1.6668057665e-1
    y = y * x + 2.0000714765e-1
    y = y * x - 2.4999993993e-1
    y = y * x + 3.3333331174e-1
    y = y * x * z
    y += fe * -2.12194440e-4
    y += z * -0.5
    return x + y + fe * 0.693359375
}
