import AVPGANCore
import FuzzDriver
#if canImport(Glibc)
import Glibc
#endif

/// Fuzz target: audio. Mode 0: the bytes of an encoded file through the decoder (libsndfile,
/// libsoxr) and, when it decodes, the front end (VAD, log-mel). Mode 1: arbitrary float PCM
/// (any bit pattern: NaN, infinities, huge finite values), channels, rate, `seconds` and VAD
/// settings through `AudioDecoder.fromPCM` and the front end. Every failure must be a thrown
/// error; every success finite features. Both modes also run the streamed front end
/// (`FrontEnd.features(bytes:)`, `features(pcm:)`), which must give the same features whenever
/// the whole-signal path does, and fail whenever it fails on audio that decoded.
// One thread: inputs are small, and libFuzzer's coverage and leak checks are per thread.
try? Threads.set(1)
exit(runFuzzer(CommandLine.argc, CommandLine.unsafeArgv) { input in
    var r = FuzzReader(input)
    let mode = r.byte()
    let options = FrontEndOptions(seconds: seconds(r.integer(UInt64.self)), vad: r.byte() & 1 == 0, vadMode: Int(r.byte() % 5))
    if mode & 1 == 0 {
        let file = r.rest()
        let audio = file.withUnsafeBytes { try? AudioDecoder.decode(bytes: $0, targetRate: 16000) }
        if let audio {
            let streamed = file.withUnsafeBytes { b in Result { try FrontEnd.features(bytes: b, options: options) } }
            frontEnd(audio, options, streamed: streamed)
        }
    } else {
        let channels = Int(r.byte() % 4) + 1
        let rate = [8000, 16000, 22050, 44100, 48000, 1000, 999, 0][Int(r.byte() % 8)]
        let raw = r.rest()
        let count = raw.count / 4
        var floats = [Float](repeating: 0, count: count)
        floats.withUnsafeMutableBytes { $0.copyBytes(from: raw.prefix(4 * count)) }
        let audio = floats.withUnsafeBufferPointer { try? AudioDecoder.fromPCM($0, channels: channels, sampleRate: rate) }
        if let audio {
            let streamed = floats.withUnsafeBufferPointer { p in
                Result { try FrontEnd.features(pcm: p, channels: channels, sampleRate: rate, options: options) }
            }
            frontEnd(audio, options, streamed: streamed)
        }
    }
})

/// `seconds` from 64 fuzz bits: nil, or any Double (negative, zero, NaN, huge) half the time,
/// a small positive number otherwise.
private func seconds(_ bits: UInt64) -> Double? {
    switch bits & 3 {
    case 0: return nil
    case 1: return Double(bitPattern: bits)
    default: return Double(bits >> 2 & 0xFFFF) / 4096
    }
}

/// The whole-signal front end of `audio` must give finite features, and `streamed` (the same
/// recording through the streamed front end) the same ones, or fail when it fails. (The input
/// length may differ: a stream stopped by `seconds` reports the length the header declares.)
private func frontEnd(_ audio: DecodedAudio, _ options: FrontEndOptions, streamed: Result<VoiceFeatures, Error>) {
    guard let f = try? FrontEnd.features(audio, options: options) else {
        if case .success = streamed { preconditionFailure("the streamed front end succeeds where the whole-signal one fails") }
        return
    }
    precondition(f.values.count == f.frames * 64 && f.values.allSatisfy(\.isFinite), "features not finite")
    guard case let .success(g) = streamed else { preconditionFailure("the streamed front end fails where the whole-signal one succeeds") }
    precondition(g.values == f.values && g.frames == f.frames && g.voicedSeconds == f.voicedSeconds,
                 "the streamed front end's features differ from the whole-signal ones")
}
