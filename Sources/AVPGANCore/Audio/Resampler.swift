import CSoxr

/// Sample-rate conversion of mono float signals with libsoxr at its high-quality setting
/// (SOXR_HQ: 20-bit precision, passband to 91.3 % of Nyquist, linear phase). Deterministic.
public enum Resampler {
    /// `samples` at `from` Hz, resampled to `to` Hz (the same array when the rates are equal).
    public static func resample(_ samples: [Float], from: Int, to: Int) throws -> [Float] {
        guard from > 0, to > 0 else { throw AVPGANError.invalid("sample rates must be positive, got \(from) -> \(to) Hz") }
        guard from != to, !samples.isEmpty else { return samples }
        let capacity = Int((Double(samples.count) * Double(to) / Double(from)).rounded(.up)) + 16
        var out = [Float](repeating: 0, count: capacity)
        var io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I)
        var quality = soxr_quality_spec(UInt(SOXR_HQ), 0)
        var done = 0
        let error = samples.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { output in
                soxr_oneshot(Double(from), Double(to), 1, input.baseAddress, input.count, nil,
                             output.baseAddress, output.count, &done, &io, &quality, nil)
            }
        }
        if let error { throw AVPGANError(.internal, "libsoxr: \(String(cString: error))") }
        return Array(out.prefix(done))
    }

    /// How many samples resampling `count` samples from `from` to `to` Hz gives (libsoxr's length
    /// of a whole signal, `count x to / from` rounded half up; ResamplerStreamTests checks it
    /// against libsoxr), for reporting a recording's length without resampling all of it.
    public static func outputLength(_ count: Int, from: Int, to: Int) -> Int {
        guard from != to else { return count }
        return Int((Double(count) * Double(to) / Double(from) + 0.5).rounded(.down))
    }
}
