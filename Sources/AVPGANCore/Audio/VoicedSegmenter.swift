/// The front end's silence removal (`vad_keep` of the normative reference): frames a
/// recording, classifies every frame once, in order, with one `VoiceActivityDetector`, and
/// keeps the voiced runs, concatenated.
///
/// Framing: frames of `frameMs` start at 0, `n`, `2n`, ... and a frame is used only if more
/// samples follow it (a start `i` with `i < count - n`). So the tail shorter than a frame is
/// dropped, and so is the last whole frame when the length is an exact multiple of `n`, as
/// the reference does.
///
/// Runs: a ring holds the last `paddingMs / frameMs` (integer division) frames while no run is
/// open; a run opens, starting with the ring's frames, when more than 90% of the ring is
/// speech, and closes, after the current frame, when more than 90% of the ring (refilled since
/// the run opened) is non-speech. A run still open at the end is kept.
public enum VoicedSegmenter {
    /// The samples kept from `samples` (int16 scale, `sampleRate` Hz, mono); empty when nothing
    /// is voiced. Throws `invalidArgument` for an unsupported mode, rate or frame duration, or a
    /// negative padding.
    public static func keep(samples: UnsafeBufferPointer<Int16>, sampleRate: Int = 16000, mode: Int = 2,
                            frameMs: Int = 20, paddingMs: Int = 50) throws -> [Int16] {
        let frames = try keptFrames(samples: samples, sampleRate: sampleRate, mode: mode, frameMs: frameMs, paddingMs: paddingMs)
        let n = sampleRate / 1000 * frameMs
        var out = [Int16]()
        out.reserveCapacity(frames.reduce(0) { $0 + $1.count } * n)
        for run in frames {
            out.append(contentsOf: samples[(run.lowerBound * n)..<(run.upperBound * n)])
        }
        return out
    }

    /// `keep` on an array.
    public static func keep(samples: [Int16], sampleRate: Int = 16000, mode: Int = 2,
                            frameMs: Int = 20, paddingMs: Int = 50) throws -> [Int16] {
        try samples.withUnsafeBufferPointer {
            try keep(samples: $0, sampleRate: sampleRate, mode: mode, frameMs: frameMs, paddingMs: paddingMs)
        }
    }

    /// The number of frames `keep` classifies in `sampleCount` samples with frames of
    /// `frameLength` samples: the starts `i = 0, n, 2n, ...` with `i < sampleCount - n`
    /// (0 for a non-positive frame length).
    public static func frameCount(sampleCount: Int, frameLength: Int) -> Int {
        frameLength > 0 && sampleCount > frameLength ? (sampleCount - 1) / frameLength : 0
    }

    /// A detector and its frame length in samples, for `frameMs` ms frames (10, 20 or 30).
    private static func detector(sampleRate: Int, mode: Int, frameMs: Int) throws -> (VoiceActivityDetector, Int) {
        let vad = try VoiceActivityDetector(mode: mode, sampleRate: sampleRate)
        let n = sampleRate / 1000 * frameMs
        guard vad.isValidFrameLength(n) else {
            throw AVPGANError.invalid("VAD frame duration \(frameMs) ms: expected 10, 20 or 30")
        }
        return (vad, n)
    }

    /// The detector's decision for each frame `keep` classifies, in order (true = speech).
    public static func frameDecisions(samples: UnsafeBufferPointer<Int16>, sampleRate: Int = 16000, mode: Int = 2,
                                      frameMs: Int = 20) throws -> [Bool] {
        let (vad, n) = try detector(sampleRate: sampleRate, mode: mode, frameMs: frameMs)
        let count = frameCount(sampleCount: samples.count, frameLength: n)
        guard count > 0, let base = samples.baseAddress else { return [] }
        return [Bool](unsafeUninitializedCapacity: count) { out, initialized in
            for f in 0..<count { out[f] = vad.classify(base + f * n, count: n) }
            initialized = count
        }
    }

    /// `frameDecisions` on an array.
    public static func frameDecisions(samples: [Int16], sampleRate: Int = 16000, mode: Int = 2, frameMs: Int = 20) throws -> [Bool] {
        try samples.withUnsafeBufferPointer { try frameDecisions(samples: $0, sampleRate: sampleRate, mode: mode, frameMs: frameMs) }
    }

    /// The kept runs as half-open ranges of frame indices, ascending and disjoint.
    public static func keptFrames(samples: UnsafeBufferPointer<Int16>, sampleRate: Int = 16000, mode: Int = 2,
                                  frameMs: Int = 20, paddingMs: Int = 50) throws -> [Range<Int>] {
        guard paddingMs >= 0 else { throw AVPGANError.invalid("VAD padding \(paddingMs) ms: expected >= 0") }
        let decisions = try frameDecisions(samples: samples, sampleRate: sampleRate, mode: mode, frameMs: frameMs)
        return runs(decisions, ringCapacity: paddingMs / frameMs)
    }

    /// `keptFrames` of int16-scale Float samples: each frame is rounded and saturated to Int16
    /// (`FrontEnd.int16`) only as it is classified, so no Int16 copy of the recording is made.
    public static func keptFrames(int16Scale samples: UnsafeBufferPointer<Float>, sampleRate: Int = 16000, mode: Int = 2,
                                  frameMs: Int = 20, paddingMs: Int = 50) throws -> [Range<Int>] {
        guard paddingMs >= 0 else { throw AVPGANError.invalid("VAD padding \(paddingMs) ms: expected >= 0") }
        let (vad, n) = try detector(sampleRate: sampleRate, mode: mode, frameMs: frameMs)
        let count = frameCount(sampleCount: samples.count, frameLength: n)
        guard count > 0, let base = samples.baseAddress else { return [] }
        var frame = [Int16](repeating: 0, count: n)
        let decisions = frame.withUnsafeMutableBufferPointer { pcm in
            (0..<count).map { f -> Bool in
                for i in 0..<n { pcm[i] = FrontEnd.int16(base[f * n + i]) }
                return vad.classify(UnsafePointer(pcm.baseAddress!), count: n)
            }
        }
        return runs(decisions, ringCapacity: paddingMs / frameMs)
    }

    /// The voiced runs of a decision sequence with a ring of `ringCapacity` frames
    /// (`VoicedRunTracker`); a run still open at the end is kept.
    static func runs(_ decisions: [Bool], ringCapacity: Int) -> [Range<Int>] {
        var result = [Range<Int>]()
        var tracker = VoicedRunTracker(ringCapacity: ringCapacity)
        for d in decisions {
            if let closed = tracker.push(d).closed { result.append(closed) }
        }
        if let start = tracker.openRunStart { result.append(start..<decisions.count) }
        return result
    }
}
