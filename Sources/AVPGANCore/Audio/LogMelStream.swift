/// The unnormalised log-mel spectrum of a signal that arrives in pieces (`LogMelExtractor.
/// logSpectrum` of all the pieces concatenated, bit for bit): frames whose 400 samples have
/// all arrived are computed as soon as a group of eight is complete; the last frames, which
/// depend on where the signal ends (the frame count and the cyclic fill), are computed by
/// `finish`. Holds the spectrum computed so far (256 bytes a frame) and at most one piece plus
/// about 1,500 samples of signal. One stream per signal, used by one thread.
final class LogMelStream {
    private let extractor: LogMelExtractor
    /// Samples taken so far.
    private(set) var count = 0
    /// The frames computed so far, `64` floats each, frame-major.
    private var spectrum: [Float] = []
    /// Frame groups computed so far (group `g` holds frames `8 g ..< 8 g + 8`).
    private var groupsDone = 0
    /// The samples from index `origin` of the signal on that later frames still read.
    private var window: [Float] = []
    private var origin = 0

    private static let lanes = FFTLanes.scalarCount

    /// A stream; `expectedSamples` (when the length is known in advance) reserves the spectrum
    /// once instead of growing it.
    init(extractor: LogMelExtractor, expectedSamples: Int? = nil) {
        self.extractor = extractor
        if let expectedSamples, expectedSamples > 0 {
            spectrum.reserveCapacity(LogMelExtractor.frameCount(samples: expectedSamples) * LogMelExtractor.bands)
        }
    }

    /// Appends the next samples (16 kHz, int16 scale). Throws `invalidArgument` for a NaN or
    /// infinite sample, naming its index in the whole signal.
    func append(_ samples: UnsafeBufferPointer<Float>) throws {
        guard !samples.isEmpty else { return }
        try LogMelExtractor.validate(samples, first: count)
        window.append(contentsOf: samples)
        count += samples.count
        // Group g is whole once its last frame's 400 samples are here: 160 (8 g + 7) + 400.
        let hop = LogMelExtractor.hop, wlen = LogMelExtractor.windowLength
        let ready = count >= (Self.lanes - 1) * hop + wlen ? (count - (Self.lanes - 1) * hop - wlen) / (Self.lanes * hop) + 1 : 0
        guard ready > groupsDone else { return }
        compute(groups: groupsDone..<ready, signalCount: count)
        // Later frames read from 160 (8 groupsDone - 1) on: drop what comes before, once it is
        // at least half of the window (so each sample moves at most about once).
        let keepFrom = max(groupsDone * Self.lanes * hop - hop, 0)
        if keepFrom - origin >= window.count / 2 {
            window.removeFirst(keepFrom - origin)
            origin = keepFrom
        }
    }

    /// Ends the signal: the whole spectrum (`count / 160 + 1` frames) and its frame count.
    /// Throws `invalidArgument` when no sample was taken.
    func finish() throws -> (values: [Float], frames: Int) {
        guard count > 0 else { throw AVPGANError.invalid("log-mel: no samples (empty input)") }
        let frames = LogMelExtractor.frameCount(samples: count)
        let groups = (frames + Self.lanes - 1) / Self.lanes
        if groups > groupsDone { compute(groups: groupsDone..<groups, signalCount: count, frames: frames) }
        spectrum.removeLast(spectrum.count - frames * LogMelExtractor.bands)
        defer { spectrum = []; window = [] }
        return (spectrum, frames)
    }

    /// Computes `groups` (all of whose frames lie in the signal so far unless `frames` says
    /// where the signal ends) into the spectrum.
    private func compute(groups: Range<Int>, signalCount: Int, frames: Int? = nil) {
        let b = LogMelExtractor.bands
        let rows = groups.upperBound * Self.lanes
        spectrum.append(contentsOf: repeatElement(0, count: rows * b - spectrum.count))
        let total = frames ?? LogMelExtractor.frameCount(samples: signalCount)
        window.withUnsafeBufferPointer { w in
            spectrum.withUnsafeMutableBufferPointer { out in
                // base[i] is sample i of the signal; only indices from `origin` on are read.
                extractor.compute(w.baseAddress! - origin, count: signalCount, frames: total, groups: groups, into: out.baseAddress!)
            }
        }
        groupsDone = groups.upperBound
    }
}
