// Audio/: from a recording to the voice features the networks take. `AudioDecoder` decodes any
// file libsndfile reads (streamed, in chunks), mixes to mono and resamples to 16 kHz with
// libsoxr (`Resampler*`); the WebRTC voice activity detector (`VAD/`) keeps the voiced frames
// (`VoicedSegmenter`, `VoicedRunTracker`); `LogMel*`, `MelFilterbank` and `FFT` make the Sphinx
// log-mel spectrum. `FrontEnd` (here) and `FrontEndStream` put the stages together, on a whole
// signal or as the file is read, as reference/voice_frontend.py does.

#if canImport(Glibc)
import Glibc
#endif

/// Options of the front end (reference/voice_frontend.py): voice activity detection and the
/// paper's "first N seconds" experiments.
public struct FrontEndOptions: Sendable, Equatable {
    /// Use only the first `seconds` of (voiced) audio; nil = all of it.
    public var seconds: Double?
    /// Keep only voiced audio (WebRTC VAD, 20 ms frames, 50 ms ring, 90 % trigger).
    public var vad: Bool
    /// VAD aggressiveness, 0-3.
    public var vadMode: Int

    public init(seconds: Double? = nil, vad: Bool = true, vadMode: Int = 2) {
        self.seconds = seconds
        self.vad = vad
        self.vadMode = vadMode
    }

    /// `seconds=all vad=on vad_mode=2`, for provenance.
    public var summary: String {
        "seconds=\(seconds.map { "\($0)" } ?? "all") vad=\(vad ? "on" : "off") vad_mode=\(vadMode)"
    }
}

/// Features of a recording and what went into them.
public struct VoiceFeatures: Sendable {
    /// `frames x 64`, frame-major, per-band normalised, repeated to at least 1000 frames.
    public var values: [Float]
    public var frames: Int
    /// Frames computed from the audio before the repeat rule.
    public var computedFrames: Int
    /// Seconds of the input (at 16 kHz) and of the audio the features were computed from.
    public var inputSeconds: Double
    public var voicedSeconds: Double
}

/// The front end: 16 kHz int16-scale samples -> voice activity detection -> the first N
/// seconds -> Sphinx log-mel features, exactly as the reference.
public enum FrontEnd {
    public static let sampleRate = LogMelExtractor.sampleRate
    static let extractor = Result { try LogMelExtractor() }

    /// Throws `invalidArgument` for `seconds` not positive and finite or a mode outside 0...3.
    static func check(_ options: FrontEndOptions) throws {
        if let s = options.seconds {
            guard s.isFinite, s > 0 else { throw AVPGANError.invalid("seconds is \(s), expected a positive number (or none)") }
        }
        guard (0...3).contains(options.vadMode) else { throw AVPGANError.invalid("vad_mode is \(options.vadMode), expected 0...3") }
    }

    /// The features of the audio file at `path`, decoded, resampled and analysed in chunks
    /// (`FrontEndStream`): memory is bounded by the features kept, not by the file, and reading
    /// stops once `seconds` of (voiced) audio are in. Equal to `features(AudioDecoder.decode(
    /// path:))` bit for bit, except that a recording read only in part reports its declared length
    /// as `inputSeconds` (and a damaged part after the audio used is not read, so not an error).
    /// `frameLimit`: fail (`invalidArgument`) as soon as the features would pass that many
    /// frames (`FrontEndStream.init`), as a portrait does at `Model.maxFrames`.
    public static func features(path: String, options: FrontEndOptions = FrontEndOptions(), frameLimit: Int? = nil) throws -> VoiceFeatures {
        try streamedFeatures(options: options, frameLimit: frameLimit) { expecting, consumer in
            try AudioDecoder.stream(path: path, targetRate: sampleRate, expecting: expecting, into: consumer)
        }
    }

    /// `features(path:)` of an encoded file held in memory (`AudioDecoder.decode(bytes:)`).
    public static func features(bytes: UnsafeRawBufferPointer, options: FrontEndOptions = FrontEndOptions(), frameLimit: Int? = nil) throws -> VoiceFeatures {
        try streamedFeatures(options: options, frameLimit: frameLimit) { expecting, consumer in
            try AudioDecoder.stream(bytes: bytes, targetRate: sampleRate, expecting: expecting, into: consumer)
        }
    }

    /// The features of what `decode` streams (the decoder's length estimate to `expecting`, the
    /// chunks to `consumer`, until it says it has enough) through one `FrontEndStream`.
    private static func streamedFeatures(
        options: FrontEndOptions, frameLimit: Int?,
        decode: (_ expecting: (Int) -> Void, _ consumer: (UnsafeBufferPointer<Float>) throws -> Bool) throws -> DecodedStreamInfo
    ) throws -> VoiceFeatures {
        try check(options)
        var expected: Int?
        var stream: FrontEndStream?
        let info = try decode({ expected = $0 }) { chunk in
            if stream == nil { stream = try FrontEndStream(options: options, expectedSamples: expected, frameLimit: frameLimit) }
            try stream!.add(chunk)
            return stream!.wantsMore
        }
        guard let stream else { throw AVPGANError(.noSpeech, "the recording has no samples") }
        return try stream.finish(inputSamples: info.totalSamples)
    }

    /// `features(path:)` of caller PCM (`AudioDecoder.fromPCM`'s arguments), without a resampled copy.
    public static func features(pcm: UnsafeBufferPointer<Float>, channels: Int, sampleRate rate: Int,
                                options: FrontEndOptions = FrontEndOptions(), frameLimit: Int? = nil) throws -> VoiceFeatures {
        try check(options)
        let frames = pcm.count / max(channels, 1)
        let plausible = (1000...1_000_000).contains(rate) && frames <= AudioDecoder.maxSeconds * rate
        let stream = try FrontEndStream(options: options,
                                        expectedSamples: plausible ? Resampler.outputLength(frames, from: rate, to: sampleRate) : nil,
                                        frameLimit: frameLimit)
        let info = try AudioDecoder.stream(pcm: pcm, channels: channels, sampleRate: rate, targetRate: sampleRate) { chunk in
            try stream.add(chunk)
            return stream.wantsMore
        }
        return try stream.finish(inputSamples: info.totalSamples)
    }

    /// The features of `audio`. Taking the recording (`consume` it, or pass its last use) lets
    /// voice activity detection compact the voiced samples in place instead of copying them.
    public static func features(_ audio: consuming DecodedAudio, options: FrontEndOptions = FrontEndOptions()) throws -> VoiceFeatures {
        guard audio.sampleRate == sampleRate else {
            throw AVPGANError(.internal, "the front end takes \(sampleRate) Hz audio, got \(audio.sampleRate) Hz")
        }
        try check(options)
        guard !audio.samples.isEmpty else { throw AVPGANError(.noSpeech, "the recording has no samples") }
        // Compared in Double first: seconds * rate may exceed Int's range (seconds is only finite).
        func selected(_ available: Int) -> Int {
            guard let s = options.seconds else { return available }
            let wanted = (s * Double(sampleRate)).rounded(.down)
            return wanted >= Double(available) ? available : Int(wanted)
        }
        let inputSeconds = audio.seconds
        var voiced = audio.samples
        audio.samples = []
        if options.vad {
            // The detector classifies int16 frames (rounded, saturated); only the voiced samples
            // the features use are copied: all of them, or the first `seconds`.
            let runs = try voiced.withUnsafeBufferPointer {
                try VoicedSegmenter.keptFrames(int16Scale: $0, sampleRate: sampleRate, mode: options.vadMode)
            }
            let frame = sampleRate / 50
            let total = runs.reduce(0) { $0 + $1.count } * frame
            guard total > 0 else {
                throw AVPGANError(.noSpeech, "no speech found: the voice activity detector (mode \(options.vadMode)) kept none of the \(inputSeconds) s")
            }
            // Runs ascend, so each moves left (or stays): compact them to the front in place.
            let keep = max(selected(total), 1)
            var kept = 0
            voiced.withUnsafeMutableBufferPointer { v in
                for run in runs where kept < keep {
                    let n = min(run.count * frame, keep - kept)
                    memmove(v.baseAddress! + kept, v.baseAddress! + run.lowerBound * frame, n * MemoryLayout<Float>.stride)
                    kept += n
                }
            }
            voiced.removeLast(voiced.count - kept)
        }
        let used = selected(voiced.count)
        guard used > 0 else { throw AVPGANError(.noSpeech, "seconds=\(options.seconds!) selects no samples") }
        let (values, frames) = try extractor.get().features(voiced, seconds: options.seconds)
        return VoiceFeatures(values: values, frames: frames, computedFrames: LogMelExtractor.frameCount(samples: used),
                             inputSeconds: inputSeconds, voicedSeconds: Double(used) / Double(sampleRate))
    }

    /// An int16-scale sample rounded (half away from zero) and saturated to Int16, for any Float:
    /// the saturation happens in Float, so a huge finite sample cannot overflow `Int`, and NaN
    /// (which the decoders reject before this) maps to 0.
    @inline(__always)
    static func int16(_ x: Float) -> Int16 {
        let r = x.rounded()
        if r >= 32767 { return .max }
        if r <= -32768 { return .min }
        return r.isNaN ? 0 : Int16(r)
    }
}
