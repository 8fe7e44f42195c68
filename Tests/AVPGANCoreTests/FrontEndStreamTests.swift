@testable import AVPGANCore
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The streaming front end (FrontEndStream, FrontEnd.features(path:/bytes:/pcm:)) gives, bit for
/// bit, what the whole-signal front end (FrontEnd.features of a decoded recording) gives: for
/// every piece size, VAD mode, `seconds` cut, recording length, rate and channel count.
final class FrontEndStreamTests: XCTestCase {
    let dir = "\(Fixtures.root)/frontend"

    /// A recording whose voiced runs start and end everywhere relative to piece borders:
    /// speech, 0.7 s of silence, speech again, a short burst, silence, speech.
    func speechWithPauses() throws -> [Float] {
        let speech = try LogMelTests.int16Samples("\(dir)/vad.input.npy")
        let pause = [Float](repeating: 0, count: 11_213)
        return speech + pause + speech.prefix(24_321) + pause.prefix(1_777) + Array(speech.suffix(9_999)) + pause + speech
    }

    func assertSame(_ a: Result<VoiceFeatures, Error>, _ b: Result<VoiceFeatures, Error>, _ what: String,
                    file: StaticString = #filePath, line: UInt = #line) {
        switch (a, b) {
        case let (.success(x), .success(y)):
            XCTAssertEqual(x.frames, y.frames, "\(what): frame count", file: file, line: line)
            XCTAssertEqual(x.computedFrames, y.computedFrames, "\(what): computed frames", file: file, line: line)
            XCTAssertEqual(x.voicedSeconds, y.voicedSeconds, "\(what): voiced seconds", file: file, line: line)
            XCTAssertEqual(x.inputSeconds, y.inputSeconds, "\(what): input seconds", file: file, line: line)
            if x.values != y.values {
                let i = x.values.indices.first { x.values[$0] != y.values[$0] } ?? -1
                XCTFail("\(what): features differ first at frame \(i / 64), band \(i % 64)", file: file, line: line)
            }
        case let (.failure(x), .failure(y)):
            XCTAssertEqual("\(x)", "\(y)", "\(what): the errors differ", file: file, line: line)
        default:
            XCTFail("\(what): one way succeeds, the other fails: \(a) vs \(b)", file: file, line: line)
        }
    }

    static let optionSets: [FrontEndOptions] = [
        FrontEndOptions(), FrontEndOptions(vadMode: 0), FrontEndOptions(vadMode: 3), FrontEndOptions(vad: false),
        FrontEndOptions(seconds: 2.5), FrontEndOptions(seconds: 0.3217), FrontEndOptions(seconds: 1e15),
        FrontEndOptions(seconds: 1e-6), FrontEndOptions(seconds: 3.05, vad: false), FrontEndOptions(seconds: 1.0 / 16000, vad: false),
    ]

    func testPiecesEqualWholeSignal() throws {
        let signal = try speechWithPauses()
        for options in Self.optionSets {
            let whole = Result { try FrontEnd.features(DecodedAudio(samples: signal, sampleRate: 16000, originalRate: 16000, channels: 1, format: ""), options: options) }
            for piece in [1, 159, 320, 321, 5_461, 70_001, signal.count] {
                if piece == 1 && options != FrontEndOptions() { continue }  // one-sample pieces: once is enough (slow)
                let streamed = Result { () throws -> VoiceFeatures in
                    let stream = try FrontEndStream(options: options)
                    var at = 0
                    while at < signal.count && stream.wantsMore {
                        let end = min(signal.count, at + piece)
                        try signal[at..<end].withUnsafeBufferPointer { try stream.add($0) }
                        at = end
                    }
                    return try stream.finish(inputSamples: signal.count)
                }
                assertSame(streamed, whole, "\(options.summary), pieces of \(piece)")
            }
        }
    }

    func testShortSignalsAndLogMelTails() throws {
        let speech = try LogMelTests.int16Samples("\(dir)/vad.input.npy")
        for n in [1, 2, 159, 160, 161, 320, 321, 399, 400, 401, 641, 1_279, 1_280, 1_281, 1_520, 1_521, 16_000] {
            let signal = Array(speech.prefix(n))
            for options in [FrontEndOptions(vad: false), FrontEndOptions(), FrontEndOptions(seconds: 0.02, vad: false)] {
                let whole = Result { try FrontEnd.features(DecodedAudio(samples: signal, sampleRate: 16000, originalRate: 16000, channels: 1, format: ""), options: options) }
                let streamed = Result { () throws -> VoiceFeatures in
                    let stream = try FrontEndStream(options: options)
                    for s in stride(from: 0, to: n, by: 97) {
                        try signal[s..<min(n, s + 97)].withUnsafeBufferPointer { try stream.add($0) }
                    }
                    return try stream.finish()
                }
                assertSame(streamed, whole, "\(n) samples, \(options.summary)")
            }
        }
    }

    /// Writes `frames x channels` 16-bit samples as a WAV file.
    static func writeWAV(_ path: String, _ samples: [Float], channels: Int, rate: Int) throws {
        var bytes = [UInt8]()
        func u32(_ v: Int) { bytes += withUnsafeBytes(of: UInt32(v).littleEndian, Array.init) }
        func u16(_ v: Int) { bytes += withUnsafeBytes(of: UInt16(v).littleEndian, Array.init) }
        let data = samples.count * 2
        bytes += Array("RIFF".utf8); u32(36 + data); bytes += Array("WAVEfmt ".utf8)
        u32(16); u16(1); u16(channels); u32(rate); u32(rate * channels * 2); u16(channels * 2); u16(16)
        bytes += Array("data".utf8); u32(data)
        for x in samples { u16(Int(UInt16(bitPattern: Int16(max(-32768, min(32767, x.rounded())))))) }
        try FileIO.write(bytes, to: path)
    }

    /// Files at odd rates (through the resampler) and in stereo (downmixed): the streamed file,
    /// buffer and PCM paths equal decoding the whole file first, also when `seconds` stops the
    /// reading early (then the declared length gives the same input seconds).
    func testFilesEqualWholeDecode() throws {
        let speech = try speechWithPauses()
        let dirPath = NSTemporaryDirectory() + "avpgan-stream-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dirPath, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dirPath) }
        for (rate, channels) in [(16000, 1), (44100, 2), (22050, 1), (48000, 2), (8000, 1), (11025, 3)] {
            // Resample the 16 kHz speech to `rate` by linear interpolation (any signal will do) and
            // give each channel its own gain, so that the downmix matters.
            let n = speech.count * rate / 16000
            var interleaved = [Float](repeating: 0, count: n * channels)
            for i in 0..<n {
                let x = Double(i) * 16000 / Double(rate)
                let j = min(Int(x), speech.count - 2), f = Float(x - Double(j))
                let v = speech[j] * (1 - f) + speech[j + 1] * f
                for c in 0..<channels { interleaved[i * channels + c] = v * (1 - 0.3 * Float(c)) }
            }
            let path = "\(dirPath)/r\(rate)c\(channels).wav"
            try Self.writeWAV(path, interleaved, channels: channels, rate: rate)
            let bytes = try FileIO.read(path)
            let pcm = interleaved.map { $0 / 32768 }
            for options in [FrontEndOptions(), FrontEndOptions(seconds: 1.7), FrontEndOptions(seconds: 4.2, vad: false), FrontEndOptions(vadMode: 3)] {
                let what = "\(rate) Hz x \(channels), \(options.summary)"
                let whole = Result { try FrontEnd.features(try AudioDecoder.decode(path: path), options: options) }
                assertSame(Result { try FrontEnd.features(path: path, options: options) }, whole, "\(what), file")
                assertSame(Result { try bytes.withUnsafeBytes { try FrontEnd.features(bytes: $0, options: options) } }, whole, "\(what), buffer")
                let wholePCM = Result { try pcm.withUnsafeBufferPointer {
                    try FrontEnd.features(try AudioDecoder.fromPCM($0, channels: channels, sampleRate: rate), options: options) } }
                assertSame(Result { try pcm.withUnsafeBufferPointer {
                    try FrontEnd.features(pcm: $0, channels: channels, sampleRate: rate, options: options) } }, wholePCM, "\(what), PCM")
            }
        }
    }

    /// A consumer that has enough stops the decoding: only the first chunk is read, and the
    /// declared length is still reported.
    /// A frame limit (a portrait's `Model.maxFrames`) fails the stream as soon as the features
    /// would pass it, not at the end: at the limit the features are as without it.
    func testFrameLimitFailsAsSoonAsPassed() throws {
        let options = FrontEndOptions(vad: false)
        let atLimit = [Float](repeating: 100, count: 11 * LogMelExtractor.hop - 1)  // 11 frames
        let limited = try FrontEndStream(options: options, frameLimit: 11)
        try atLimit.withUnsafeBufferPointer { try limited.add($0) }
        let plain = try FrontEndStream(options: options)
        try atLimit.withUnsafeBufferPointer { try plain.add($0) }
        assertSame(.success(try limited.finish()), .success(try plain.finish()), "at the limit")

        let over = try FrontEndStream(options: options, frameLimit: 11)
        try atLimit.withUnsafeBufferPointer { try over.add($0) }
        let one: [Float] = [100]
        XCTAssertThrowsError(try one.withUnsafeBufferPointer { try over.add($0) }) { error in
            XCTAssertEqual((error as? AVPGANError)?.kind, .invalidArgument)
            XCTAssertTrue("\(error)".contains("more than 11 frames"), "\(error)")
        }
        // seconds below the limit selects samples before it: no error.
        let cut = try FrontEndStream(options: FrontEndOptions(seconds: 0.1, vad: false), frameLimit: 11)
        try (atLimit + atLimit).withUnsafeBufferPointer { try cut.add($0) }
        XCTAssertEqual(try cut.finish().computedFrames, 11)
    }

    func testEnoughStopsReading() throws {
        let path = NSTemporaryDirectory() + "avpgan-stop-\(getpid()).wav"
        defer { unlink(path) }
        let seconds = 120
        try Self.writeWAV(path, (0..<(seconds * 44100)).map { Float(($0 * 37) % 2000) - 1000 }, channels: 1, rate: 44100)
        var calls = 0
        let info = try AudioDecoder.stream(path: path) { _ in calls += 1; return false }
        XCTAssertEqual(calls, 1, "the decoder went on after the consumer had enough")
        XCTAssertLessThan(info.samples, 16000, "more than one chunk was decoded")
        XCTAssertEqual(info.totalSamples, Resampler.outputLength(seconds * 44100, from: 44100, to: 16000), "declared length")
        XCTAssertEqual(info.totalSamples, seconds * 16000, "120 s at 16 kHz")
    }

    /// `Resampler.outputLength` is libsoxr's length, for the rates and lengths files have.
    func testOutputLengthIsLibsoxrs() throws {
        for (from, to) in [(44100, 16000), (48000, 16000), (8000, 16000), (22050, 16000), (11025, 16000), (32000, 16000),
                           (12345, 16000), (96000, 16000), (1000, 16000), (16000, 44100)] {
            for n in [1, 2, 3, 7, 100, 1001, 16_383, 16_385, 44_101, 100_003] {
                let signal = (0..<n).map { Float(sin(Double($0) * 0.1)) }
                XCTAssertEqual(Resampler.outputLength(n, from: from, to: to), try Resampler.resample(signal, from: from, to: to).count,
                               "\(n) samples \(from) -> \(to) Hz")
            }
        }
    }
}
