// Audio/VAD/: the WebRTC voice activity detector in its fixed-point arithmetic, frame decision
// for frame decision: the decimators to 8 kHz, the six-band filterbank, the Gaussian mixture
// models and the detector that combines them (this file).

/// The WebRTC voice activity detector, in fixed-point integer arithmetic that reproduces the
/// reference implementation's (and so the `webrtcvad` Python package's) frame decisions.
///
/// The audio is brought to 8 kHz (32 -> 16 -> 8 kHz by half-band all-pass decimators; 48 kHz
/// through a 48 -> 24 -> 16 -> 8 kHz chain in 10 ms blocks), split
/// into six sub-bands whose log energies are the features; per band a two-Gaussian mixture
/// for noise and one for speech give a likelihood-ratio test per band and a weighted global
/// test, with mode-dependent thresholds; the models adapt to every frame, the noise model is
/// also pulled towards a tracked minimum, and a hangover extends speech after bursts.
///
/// It is stateful: one instance processes one stream, frame by frame in order; classifying a
/// frame twice, or frames of two streams, changes later decisions. Not thread-safe.
///
/// At 48 kHz the reference (and so `webrtcvad`) converts the frame's first 10 ms block once
/// for every 10 ms of the frame, so only the first 10 ms of a 20 or 30 ms frame is heard;
/// this reproduces that, for identical decisions.
public final class VoiceActivityDetector {
    /// Sample rates accepted, in Hz.
    public static let supportedSampleRates = [8000, 16000, 32000, 48000]
    /// Frame durations accepted, in milliseconds.
    public static let supportedFrameDurations = [10, 20, 30]

    /// Aggressiveness 0 (least: calls most frames speech) through 3 (most).
    public let mode: Int
    /// Sample rate of the frames, in Hz.
    public let sampleRate: Int

    private let thresholds: VADThresholds
    private let filterbank = VADFilterbank()
    private let model = VADModel()
    private var decimator16To8 = VADHalfRateDecimator()
    private var decimator32To16 = VADHalfRateDecimator()
    private lazy var decimator48To8 = VADSixthRateDecimator()
    // Scratch: the frame at 16 kHz (at most 480 samples) and at 8 kHz (at most 240), and the features.
    private let scratch: UnsafeMutablePointer<Int16>

    /// A detector with aggressiveness `mode` (0...3) for frames sampled at `sampleRate` Hz
    /// (8000, 16000, 32000 or 48000). Throws `invalidArgument` for another mode or rate.
    public init(mode: Int = 0, sampleRate: Int) throws {
        guard let thresholds = VADThresholds(mode: mode) else {
            throw AVPGANError.invalid("VAD mode \(mode): expected 0, 1, 2 or 3")
        }
        guard Self.supportedSampleRates.contains(sampleRate) else {
            throw AVPGANError.invalid("VAD sample rate \(sampleRate) Hz: expected 8000, 16000, 32000 or 48000")
        }
        self.mode = mode
        self.sampleRate = sampleRate
        self.thresholds = thresholds
        scratch = .allocate(capacity: 480 + 240 + 8)
        scratch.initialize(repeating: 0, count: 480 + 240 + 8)
    }

    deinit { scratch.deallocate() }

    /// Whether `count` samples make a frame this detector accepts (10, 20 or 30 ms).
    public func isValidFrameLength(_ count: Int) -> Bool {
        Self.supportedFrameDurations.contains { sampleRate / 1000 * $0 == count }
    }

    /// Forgets the stream: filter states, adapted models, noise floor and hangover return to
    /// those of a new detector.
    public func reset() {
        filterbank.reset()
        model.reset()
        decimator16To8 = VADHalfRateDecimator()
        decimator32To16 = VADHalfRateDecimator()
        if sampleRate == 48000 { decimator48To8.reset() }
    }

    /// Classifies the next frame of the stream: int16-scale samples at `sampleRate`, 10, 20 or
    /// 30 ms long. Returns true for speech. Throws `invalidArgument` for another length.
    public func isSpeech(_ frame: UnsafeBufferPointer<Int16>) throws -> Bool {
        guard isValidFrameLength(frame.count), let base = frame.baseAddress else {
            throw AVPGANError.invalid(
                "VAD frame of \(frame.count) samples: expected 10, 20 or 30 ms (\(sampleRate / 100), \(sampleRate / 50) or \(3 * sampleRate / 100) samples) at \(sampleRate) Hz")
        }
        return classify(base, count: frame.count)
    }

    /// `isSpeech` on an array.
    public func isSpeech(_ frame: [Int16]) throws -> Bool {
        try frame.withUnsafeBufferPointer { try isSpeech($0) }
    }

    /// The decision for a frame already validated.
    @inline(__always)
    func classify(_ frame: UnsafePointer<Int16>, count: Int) -> Bool {
        let wide = scratch, narrow = scratch + 480, features = scratch + 720
        var samples = UnsafePointer(frame), n = count
        if sampleRate == 48000 {
            // As the reference: every 10 ms block of output comes from the frame's first block.
            for block in 0..<(count / 480) { decimator48To8.run(frame, into: narrow + 80 * block) }
            samples = UnsafePointer(narrow); n = count / 6
        }
        if sampleRate == 32000 {
            decimator32To16.run(samples, inputCount: n, into: wide)
            samples = UnsafePointer(wide); n >>= 1
        }
        if sampleRate == 16000 || sampleRate == 32000 {
            decimator16To8.run(samples, inputCount: n, into: narrow)
            samples = UnsafePointer(narrow); n >>= 1
        }
        let energy = filterbank.features(of: samples, count: n, into: features)
        return model.decide(features: features, totalEnergy: energy, frameCount: n, thresholds: thresholds)
    }
}
