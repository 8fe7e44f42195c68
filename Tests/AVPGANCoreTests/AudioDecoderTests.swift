@testable import AVPGANCore
import CSndfile
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Decoding (libsndfile), downmixing, int16 scaling and resampling (libsoxr), and every
/// hostile input the front end must refuse with its own status and a message.
final class AudioDecoderTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws { directory = Fixtures.temporaryDirectory("audio") }

    override func tearDown() { Fixtures.removeDirectory(directory) }

    /// A speech-like test signal in [-1, 1]: a few harmonics with a slow envelope.
    func signal(seconds: Double, rate: Int, phase: Double = 0) -> [Float] {
        (0..<Int(seconds * Double(rate))).map { i in
            let t = Double(i) / Double(rate)
            let envelope = 0.5 + 0.4 * sin(2 * .pi * 3 * t + phase)
            return Float(envelope * (0.5 * sin(2 * .pi * 220 * t) + 0.25 * sin(2 * .pi * 660 * t) + 0.1 * sin(2 * .pi * 1500 * t)))
        }
    }

    /// Writes interleaved `samples` with libsndfile; false when this build cannot write the format.
    @discardableResult
    func write(_ name: String, _ samples: [Float], rate: Int, channels: Int = 1, format: Int32) -> String? {
        let path = "\(directory)/\(name)"
        var info = SF_INFO()
        info.samplerate = Int32(rate)
        info.channels = Int32(channels)
        info.format = format
        guard sf_format_check(&info) != 0, let file = sf_open(path, Int32(SFM_WRITE), &info) else { return nil }
        _ = samples.withUnsafeBufferPointer { sf_writef_float(file, $0.baseAddress, sf_count_t(samples.count / channels)) }
        sf_close(file)
        return path
    }

    func writeBytes(_ name: String, _ bytes: [UInt8]) throws -> String {
        let path = "\(directory)/\(name)"
        try FileIO.write(bytes, to: path)
        return path
    }

    func expect(_ kind: ErrorKind, _ fragment: String, file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void) {
        do {
            try body()
            XCTFail("expected \(kind) mentioning '\(fragment)'", file: file, line: line)
        } catch let e as AVPGANError {
            XCTAssertEqual(e.kind, kind, "\(e)", file: file, line: line)
            XCTAssertTrue(e.message.contains(fragment), "message '\(e.message)' should mention '\(fragment)'", file: file, line: line)
        } catch { XCTFail("\(error)", file: file, line: line) }
    }

    /// Relative RMS error of `a` against `b` over their common middle (edges skipped).
    func relativeError(_ a: [Float], _ b: [Float], skip: Int = 200) -> Float {
        let n = min(a.count, b.count) - skip
        var e: Float = 0, r: Float = 0
        for i in skip..<max(n, skip) { e += (a[i] - b[i]) * (a[i] - b[i]); r += b[i] * b[i] }
        return (e / max(r, 1e-12)).squareRoot()
    }

    func testPCM16IsExactOnTheInt16Scale() throws {
        let s = signal(seconds: 0.5, rate: 16000)
        let path = try XCTUnwrap(write("a.wav", s, rate: 16000, format: Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_16)))
        let audio = try AudioDecoder.decode(path: path)
        XCTAssertEqual(audio.sampleRate, 16000)
        XCTAssertEqual(audio.samples.count, s.count)
        XCTAssertTrue(audio.format.hasPrefix("WAV"), audio.format)
        // libsndfile writes round(x * 32767); reading gives int16 / 32768, so x 32768 = the int16 value.
        for (i, v) in audio.samples.enumerated() where v != v.rounded() {
            XCTFail("sample \(i) is \(v), not an integer on the int16 scale"); break
        }
        let off = zip(audio.samples, s).filter { abs($0 - ($1 * 32767).rounded()) > 1 }.count
        XCTAssertEqual(off, 0, "\(off) samples differ from the written int16 values by more than 1")
        // The same bytes from memory decode identically.
        let bytes = try FileIO.read(path)
        let fromMemory = try bytes.withUnsafeBytes { try AudioDecoder.decode(bytes: $0) }
        XCTAssertEqual(fromMemory.samples, audio.samples, "memory and path decoding differ")
    }

    func testFormatMatrixDecodesToTheSameSignal() throws {
        let reference = signal(seconds: 1, rate: 16000).map { $0 * 32768 }
        let formats: [(String, Int32, Float)] = [
            ("u8.wav", Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_U8), 0.02),
            ("s24.wav", Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_24), 1e-4),
            ("s32.wav", Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_32), 1e-4),
            ("f32.wav", Int32(SF_FORMAT_WAV | SF_FORMAT_FLOAT), 1e-6),
            ("a.flac", Int32(SF_FORMAT_FLAC | SF_FORMAT_PCM_16), 1e-3),
            ("a.ogg", Int32(SF_FORMAT_OGG | SF_FORMAT_VORBIS), 0.1),
        ]
        // Opus runs at 48 kHz internally: written at 48 kHz, it must come back as the same 16 kHz signal.
        if let opus = write("a.opus", signal(seconds: 1, rate: 48000), rate: 48000, format: Int32(SF_FORMAT_OGG | SF_FORMAT_OPUS)) {
            let audio = try AudioDecoder.decode(path: opus)
            XCTAssertEqual(audio.originalRate, 48000)
            XCTAssertEqual(Double(audio.samples.count), 16000, accuracy: 400, "opus: length")
            // Opus adds a codec delay; compare spectra rather than samples.
            func energy(_ x: [Float]) -> Float { x.reduce(0) { $0 + $1 * $1 } / Float(x.count) }
            XCTAssertEqual(energy(audio.samples), energy(reference), accuracy: energy(reference) * 0.2, "opus: signal energy")
        } else {
            XCTFail("this libsndfile cannot write Opus")
        }
        for (name, format, tolerance) in formats {
            guard let path = write(name, signal(seconds: 1, rate: 16000), rate: 16000, format: format) else {
                XCTFail("this libsndfile cannot write \(name)"); continue
            }
            let audio = try AudioDecoder.decode(path: path)
            XCTAssertEqual(audio.samples.count, reference.count, "\(name): sample count")
            let e = relativeError(audio.samples, reference)
            XCTAssertLessThan(e, tolerance, "\(name) (\(audio.format)): relative error \(e)")
        }
    }

    func testResamplingAndDownmix() throws {
        for rate in [8000, 22050, 44100, 48000] {
            let left = signal(seconds: 1, rate: rate), right = signal(seconds: 1, rate: rate, phase: 1)
            let stereo = zip(left, right).flatMap { [$0, $1] }
            let path = try XCTUnwrap(write("s\(rate).wav", stereo, rate: rate, channels: 2, format: Int32(SF_FORMAT_WAV | SF_FORMAT_FLOAT)))
            let audio = try AudioDecoder.decode(path: path)
            XCTAssertEqual(audio.originalRate, rate)
            XCTAssertEqual(audio.channels, 2)
            XCTAssertEqual(audio.sampleRate, 16000)
            XCTAssertEqual(Double(audio.samples.count), 16000, accuracy: 2, "\(rate) Hz: resampled length")
            let expected = zip(signal(seconds: 1, rate: 16000), signal(seconds: 1, rate: 16000, phase: 1)).map { ($0 + $1) / 2 * 32768 }
            // All of the signal lies below 3.6 kHz, so even 8 kHz input carries it whole.
            let e = relativeError(audio.samples, expected, skip: 400)
            XCTAssertLessThan(e, 0.01, "\(rate) Hz stereo -> 16 kHz mono: relative error \(e)")
        }
    }

    func testPCMInput() throws {
        let s = signal(seconds: 0.25, rate: 48000)
        let audio = try s.withUnsafeBufferPointer { try AudioDecoder.fromPCM($0, channels: 1, sampleRate: 48000) }
        XCTAssertEqual(audio.samples.count, 4000)
        let bad: [Float] = [0, 0.5, .nan, 0]
        expect(.invalidArgument, "sample 2") { _ = try bad.withUnsafeBufferPointer { try AudioDecoder.fromPCM($0, channels: 1, sampleRate: 16000) } }
        expect(.invalidArgument, "channels") { _ = try s.withUnsafeBufferPointer { try AudioDecoder.fromPCM($0, channels: 0, sampleRate: 16000) } }
        expect(.invalidArgument, "sample_rate") { _ = try s.withUnsafeBufferPointer { try AudioDecoder.fromPCM($0, channels: 1, sampleRate: 7) } }
        expect(.invalidArgument, "frames of 3") { _ = try s.prefix(10).withUnsafeBufferPointer { try AudioDecoder.fromPCM($0, channels: 3, sampleRate: 16000) } }
    }

    func testHostileInputs() throws {
        expect(.io, "No such file") { _ = try AudioDecoder.decode(path: "\(directory)/missing.wav") }
        expect(.io, "is a directory") { _ = try AudioDecoder.decode(path: directory) }
        let empty = try writeBytes("empty.wav", [])
        expect(.audioFormat, "empty") { _ = try AudioDecoder.decode(path: empty) }
        expect(.audioFormat, "empty") { _ = try AudioDecoder.decode(bytes: UnsafeRawBufferPointer(start: nil, count: 0)) }
        let text = try writeBytes("notes.wav", Array("This is a text file, not audio.\n".utf8))
        expect(.audioFormat, "not decodable audio") { _ = try AudioDecoder.decode(path: text) }
        var rng = SystemRandomNumberGenerator.Seeded(seed: 9)
        let noise = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let random = try writeBytes("random.wav", noise)
        expect(.audioFormat, "not decodable audio") { _ = try AudioDecoder.decode(path: random) }
        expect(.audioFormat, "not decodable audio") { _ = try noise.withUnsafeBytes { try AudioDecoder.decode(bytes: $0) } }
        let good = try FileIO.read(try XCTUnwrap(write("g.wav", signal(seconds: 0.2, rate: 16000), rate: 16000, format: Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_16))))
        let truncated = try writeBytes("truncated.wav", Array(good.prefix(20)))
        expect(.audioFormat, "not decodable audio") { _ = try AudioDecoder.decode(path: truncated) }
        // A WAV whose RIFF and data sizes claim ~2 GB but holds 0.2 s: the real samples, no giant allocation.
        var liar = good
        for (offset, value) in [(4, UInt32(0x7FFF_FFF0)), (40, UInt32(0x7FFF_FF00))] {
            for k in 0..<4 { liar[offset + k] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(k))) }
        }
        let liarPath = try writeBytes("liar.wav", liar)
        do {
            let audio = try AudioDecoder.decode(path: liarPath)
            XCTAssertLessThanOrEqual(audio.samples.count, 3200, "a lying header must not invent samples")
        } catch let e as AVPGANError {
            XCTAssertEqual(e.kind, .audioFormat, "\(e)")
        }
        // A float WAV holding a NaN.
        var withNaN = signal(seconds: 0.1, rate: 16000)
        withNaN[77] = .nan
        let nanPath = try XCTUnwrap(write("nan.wav", withNaN, rate: 16000, format: Int32(SF_FORMAT_WAV | SF_FORMAT_FLOAT)))
        expect(.audioFormat, "sample 77") { _ = try AudioDecoder.decode(path: nanPath) }
        // A valid file with no samples decodes to nothing (the front end then reports no speech).
        let silent = try XCTUnwrap(write("none.wav", [], rate: 16000, format: Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_16)))
        XCTAssertEqual(try AudioDecoder.decode(path: silent).samples.count, 0)
    }
}
