/// The front end (`FrontEnd.features`) fed a recording in pieces, with memory bounded by the
/// features it keeps: 16 kHz int16-scale samples go through voice activity detection frame by
/// frame (`VoiceActivityDetector`, `VoicedRunTracker`), the voiced samples, up to the first
/// `seconds`, into the log-mel spectrum (`LogMelStream`), and `finish` normalises. Besides the
/// spectrum (256 bytes per 10 ms kept) it holds one piece and a few frames of signal.
///
/// The result equals `FrontEnd.features` of the whole recording bit for bit: each VAD frame is
/// classified once, in order, as soon as a sample after it has arrived (the reference drops
/// the last frame when no sample follows it), and a decision's kept frames are final at once.
/// `wantsMore` turns false when `seconds` of (voiced) audio are in: the caller may stop
/// reading there, and passes the recording's whole length to `finish` for the report.
/// One stream per recording, used by one thread.
public final class FrontEndStream {
    public let options: FrontEndOptions
    private let logMel: LogMelStream
    /// Samples wanted for the features: `floor(seconds x 16000)`, or nil for all of them.
    private let wanted: Int?
    /// The most frames the features may have (`Model.maxFrames` for a portrait), or nil.
    private let frameLimit: Int?
    /// Samples received (16 kHz input).
    public private(set) var received = 0
    /// Voiced samples found so far (all of them, also past `wanted`).
    private var voicedTotal = 0

    // Voice activity detection, when on.
    private let vad: VoiceActivityDetector?
    private var tracker: VoicedRunTracker
    private let frameLength = FrontEnd.sampleRate / 50
    /// Frames classified so far.
    private var classified = 0
    /// Samples from index `pendingOrigin` of the recording on: the frames still in the ring
    /// (a run that opens keeps them) and those not yet classified.
    private var pending: [Float] = []
    private var pendingOrigin = 0
    private var frameInt16: [Int16]

    /// A stream with `options` (checked as `FrontEnd.features` checks them); `expectedSamples`,
    /// the recording's length at 16 kHz when known, sizes the spectrum once. With `frameLimit`,
    /// `add` throws `invalidArgument` as soon as the features would pass that many frames, so
    /// a caller that cannot use more (a portrait embeds at most `Model.maxFrames`) never holds
    /// more than that: the spectrum stays within `frameLimit x 256` bytes.
    public init(options: FrontEndOptions = FrontEndOptions(), expectedSamples: Int? = nil, frameLimit: Int? = nil) throws {
        try FrontEnd.check(options)
        self.options = options
        let wanted = options.seconds.map { s in
            let w = (s * Double(FrontEnd.sampleRate)).rounded(.down)
            return w >= Double(Int.max / 2) ? Int.max / 2 : Int(w)
        }
        self.wanted = wanted
        self.frameLimit = frameLimit
        // Reserve for what the recording can give (never for `seconds` alone, which may be huge).
        let limitSamples = frameLimit.map { $0 * LogMelExtractor.hop } ?? Int.max
        let expected = expectedSamples.map { min($0, wanted ?? $0, AudioDecoder.maxSeconds * FrontEnd.sampleRate, limitSamples) }
        logMel = LogMelStream(extractor: try FrontEnd.extractor.get(), expectedSamples: expected)
        vad = options.vad ? try VoiceActivityDetector(mode: options.vadMode, sampleRate: FrontEnd.sampleRate) : nil
        tracker = VoicedRunTracker(ringCapacity: 50 / 20)
        frameInt16 = [Int16](repeating: 0, count: frameLength)
    }

    /// False once the features have all the samples `seconds` selects: more input changes
    /// nothing but the reported input length.
    public var wantsMore: Bool {
        guard let wanted, wanted >= 1 else { return true }
        return logMel.count < wanted
    }

    /// Takes the next samples of the recording (16 kHz mono, int16 scale).
    public func add(_ samples: UnsafeBufferPointer<Float>) throws {
        guard !samples.isEmpty else { return }
        received += samples.count
        guard vad != nil else {
            try forward(samples)
            return
        }
        pending.append(contentsOf: samples)
        let n = frameLength
        // Frame f is classified once a sample after it is here: start f n < received - n.
        let classifiable = VoicedSegmenter.frameCount(sampleCount: received, frameLength: n)
        while classified < classifiable {
            let kept = classify(frame: classified)
            classified += 1
            if !kept.isEmpty {
                voicedTotal += kept.count * n
                try pending.withUnsafeBufferPointer { p in
                    let from = kept.lowerBound * n - pendingOrigin
                    try forward(UnsafeBufferPointer(rebasing: p[from..<(from + kept.count * n)]))
                }
            }
        }
        // Keep the ring's frames (at most its capacity) and what is not classified yet.
        let keepFrom = max(classified - tracker.ringCapacity, 0) * n
        if keepFrom - pendingOrigin >= max(pending.count / 2, 1) {
            pending.removeFirst(keepFrom - pendingOrigin)
            pendingOrigin = keepFrom
        }
    }

    /// The features. `inputSamples` is the recording's whole length at 16 kHz when reading
    /// stopped early (`wantsMore` false), for `inputSeconds`; nil means what was received.
    /// Throws as `FrontEnd.features` does (`noSpeech`, `invalidArgument`).
    public func finish(inputSamples: Int? = nil) throws -> VoiceFeatures {
        let inputCount = max(inputSamples ?? received, received)
        let inputSeconds = Double(inputCount) / Double(FrontEnd.sampleRate)
        guard inputCount > 0 else { throw AVPGANError(.noSpeech, "the recording has no samples") }
        if vad != nil, voicedTotal == 0 {
            throw AVPGANError(.noSpeech, "no speech found: the voice activity detector (mode \(options.vadMode)) kept none of the \(inputSeconds) s")
        }
        let used = logMel.count
        guard used > 0 else { throw AVPGANError(.noSpeech, "seconds=\(options.seconds!) selects no samples") }
        let (spectrum, computed) = try logMel.finish()
        return VoiceFeatures(values: LogMelExtractor.normalise(spectrum, frames: computed),
                             frames: max(computed, LogMelExtractor.minimumFrames), computedFrames: computed,
                             inputSeconds: inputSeconds, voicedSeconds: Double(used) / Double(FrontEnd.sampleRate))
    }

    /// Classifies frame `f` (held in `pending`) and returns the frames the decision keeps.
    private func classify(frame f: Int) -> Range<Int> {
        let n = frameLength, start = f * n - pendingOrigin
        let speech = pending.withUnsafeBufferPointer { p in
            frameInt16.withUnsafeMutableBufferPointer { pcm in
                for i in 0..<n { pcm[i] = FrontEnd.int16(p[start + i]) }
                return vad!.classify(UnsafePointer(pcm.baseAddress!), count: n)
            }
        }
        return tracker.push(speech).kept
    }

    /// Passes samples on to the log-mel spectrum, up to the `wanted` ones.
    private func forward(_ samples: UnsafeBufferPointer<Float>) throws {
        let room = wanted.map { max($0 - logMel.count, 0) } ?? samples.count
        let n = min(room, samples.count)
        if let frameLimit, n > 0, LogMelExtractor.frameCount(samples: logMel.count + n) > frameLimit {
            let seconds = Double(frameLimit * LogMelExtractor.hop) / Double(FrontEnd.sampleRate)
            throw AVPGANError.invalid("the recording has more than \(frameLimit) frames (\(seconds) s) of voice, the most a portrait embeds; set seconds to use its first part")
        }
        if n > 0 { try logMel.append(UnsafeBufferPointer(rebasing: samples[0..<n])) }
    }
}
