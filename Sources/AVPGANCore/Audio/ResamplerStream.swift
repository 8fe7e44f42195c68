import CSoxr

/// Chunked sample-rate conversion with the same libsoxr settings as `Resampler.resample`
/// (SOXR_HQ, one channel, float32): feeding a signal in chunks of any size and then `finish`
/// gives the same samples as resampling it in one call (ResamplerTests checks this bit for
/// bit), with memory for one chunk instead of the whole input. One stream per signal, used by
/// one thread.
final class ResamplerStream {
    private let soxr: soxr_t
    let from: Int, to: Int
    /// Output scratch, grown to the largest chunk's need and reused.
    private var scratch: [Float] = []

    init(from: Int, to: Int) throws {
        guard from > 0, to > 0 else { throw AVPGANError.invalid("sample rates must be positive, got \(from) -> \(to) Hz") }
        var io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I)
        var quality = soxr_quality_spec(UInt(SOXR_HQ), 0)
        var error: soxr_error_t?
        guard let s = soxr_create(Double(from), Double(to), 1, &error, &io, &quality, nil), error == nil else {
            throw AVPGANError(.internal, "libsoxr: \(error.map { String(cString: $0) } ?? "soxr_create failed")")
        }
        soxr = s
        self.from = from
        self.to = to
    }

    deinit { soxr_delete(soxr) }

    /// Resamples `input` (the next part of the signal) and appends what is ready to `out`.
    func process(_ input: UnsafeBufferPointer<Float>, into out: inout [Float]) throws {
        var offset = 0
        while offset < input.count {
            let n = input.count - offset
            var used = 0
            let before = out.count
            try run(input.baseAddress! + offset, count: n, used: &used, into: &out)
            guard used > 0 || out.count > before else { throw AVPGANError(.internal, "libsoxr consumed no input and gave no output") }
            offset += used
        }
    }

    /// Ends the signal: appends the resampler's remaining output to `out`.
    func finish(into out: inout [Float]) throws {
        var used = 0
        var before: Int
        repeat {
            before = out.count
            try run(nil, count: 0, used: &used, into: &out)
        } while out.count > before
    }

    private func run(_ input: UnsafePointer<Float>?, count: Int, used: inout Int, into out: inout [Float]) throws {
        let capacity = Int((Double(count) * Double(to) / Double(from)).rounded(.up)) + 4096
        if scratch.count < capacity { scratch = [Float](repeating: 0, count: capacity) }
        var done = 0
        let error = scratch.withUnsafeMutableBufferPointer { o in
            soxr_process(soxr, input, count, &used, o.baseAddress, capacity, &done)
        }
        if let error { throw AVPGANError(.internal, "libsoxr: \(String(cString: error))") }
        out.append(contentsOf: scratch[0..<done])
    }
}
