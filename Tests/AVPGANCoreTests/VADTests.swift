@testable import AVPGANCore
import XCTest

/// The VAD and the voiced-segment front end against webrtcvad's decisions and the normative
/// `vad_keep` (fixtures in Tests/Fixtures/vad, made by tools/fixtures/make_vad_fixtures.py).
final class VADTests: XCTestCase {
    struct Clip {
        let name: String
        let sampleRate: Int
        let samples: [Int16]
        /// Reference kept-sample count of vad_keep, or nil when not given (non-16 kHz clips).
        let kept: Int?
        /// Reference decisions per (mode, frame ms).
        let decisions: [String: [Bool]]
    }

    static let directory = Fixtures.root + "/vad"

    static func text(_ path: String) throws -> String { String(decoding: try Fixtures.bytes(path), as: UTF8.self) }

    static func lines(_ s: String) -> [[Substring]] {
        s.split(separator: "\n").map { $0.split(separator: " ") }.filter { !$0.isEmpty }
    }

    static func loadClips() throws -> [Clip] {
        try lines(text(directory + "/manifest.txt")).map { f in
            let name = String(f[0])
            let bytes = try Fixtures.bytes("\(directory)/\(name).s16")
            let samples = (0..<(bytes.count / 2)).map { Int16(bitPattern: UInt16(bytes[2 * $0]) | UInt16(bytes[2 * $0 + 1]) << 8) }
            XCTAssertEqual(samples.count, Int(f[2]), name)
            var decisions = [String: [Bool]]()
            for d in try lines(text("\(directory)/\(name).vad")) {
                decisions["\(d[0])/\(d[1])"] = d.count > 2 ? d[2].map { $0 == "1" } : []
            }
            let kept = Int(f[3])!
            return Clip(name: name, sampleRate: Int(f[1])!, samples: samples, kept: kept >= 0 ? kept : nil, decisions: decisions)
        }
    }

    /// Every frame's decision by a fresh detector, the way the fixtures were made (all whole frames).
    static func decide(_ clip: Clip, mode: Int, frameMs: Int) throws -> [Bool] {
        let vad = try VoiceActivityDetector(mode: mode, sampleRate: clip.sampleRate)
        let n = clip.sampleRate / 1000 * frameMs
        return try clip.samples.withUnsafeBufferPointer { all in
            try stride(from: 0, through: all.count - n, by: n).map {
                try vad.isSpeech(UnsafeBufferPointer(rebasing: all[$0..<($0 + n)]))
            }
        }
    }

    func testDecisionsAgreeWithWebrtcvad() throws {
        let clips = try Self.loadClips()
        XCTAssertGreaterThanOrEqual(clips.count, 8)
        var same = [String: Int](), total = [String: Int]()
        for clip in clips {
            for mode in 0...3 {
                for ms in [10, 20, 30] {
                    let key = "\(mode)/\(ms)"
                    let reference = try XCTUnwrap(clip.decisions[key], "\(clip.name) lacks \(key)")
                    let ours = try Self.decide(clip, mode: mode, frameMs: ms)
                    XCTAssertEqual(ours.count, reference.count, "\(clip.name) mode \(mode) \(ms) ms: frame count")
                    let agree = zip(ours, reference).filter { $0 == $1 }.count
                    let fraction = Double(agree) / Double(max(1, reference.count))
                    XCTAssertGreaterThanOrEqual(fraction, 0.99,
                        "\(clip.name) mode \(mode) \(ms) ms: agreement \(agree)/\(reference.count) = \(fraction)")
                    same[key, default: 0] += agree
                    total[key, default: 0] += reference.count
                }
            }
        }
        var all = (0, 0)
        for mode in 0...3 {
            let row = [10, 20, 30].map { ms -> String in
                let key = "\(mode)/\(ms)"
                all.0 += same[key]!; all.1 += total[key]!
                return "\(ms) ms \(same[key]!)/\(total[key]!)"
            }
            print("VAD agreement with webrtcvad, mode \(mode): " + row.joined(separator: ", "))
        }
        print("VAD agreement with webrtcvad overall: \(all.0)/\(all.1) frames = \(Double(all.0) / Double(all.1) * 100)%")
    }

    func testSegmenterKeepsWhatVadKeepKeeps() throws {
        var exact = 0, compared = 0
        for clip in try Self.loadClips() {
            guard let reference = clip.kept else { continue }
            let kept = try VoicedSegmenter.keep(samples: clip.samples, sampleRate: 16000, mode: 2, frameMs: 20, paddingMs: 50)
            let difference = abs(kept.count - reference)
            XCTAssertLessThanOrEqual(Double(difference), 0.01 * Double(reference),
                                     "\(clip.name): kept \(kept.count) samples, vad_keep kept \(reference)")
            XCTAssertEqual(kept.count % 320, 0, clip.name)
            compared += 1
            if difference == 0 { exact += 1 }
        }
        XCTAssertGreaterThan(compared, 0)
        print("VoicedSegmenter kept-sample count equal to vad_keep's on \(exact)/\(compared) clips")
    }

    func testSegmenterFramesAndDecisions() throws {
        // Frame count as the reference: starts i < count - n.
        XCTAssertEqual(VoicedSegmenter.frameCount(sampleCount: 0, frameLength: 320), 0)
        XCTAssertEqual(VoicedSegmenter.frameCount(sampleCount: 320, frameLength: 320), 0)
        XCTAssertEqual(VoicedSegmenter.frameCount(sampleCount: 321, frameLength: 320), 1)
        XCTAssertEqual(VoicedSegmenter.frameCount(sampleCount: 640, frameLength: 320), 1)
        XCTAssertEqual(VoicedSegmenter.frameCount(sampleCount: 641, frameLength: 320), 2)

        // Runs with a ring of 2: open on two speech frames in the ring, close on two non-speech.
        let d: [Bool] = [false, true, true, true, false, true, false, false, false, true, true]
        XCTAssertEqual(VoicedSegmenter.runs(d, ringCapacity: 2), [1..<8, 9..<11])
        XCTAssertEqual(VoicedSegmenter.runs(d, ringCapacity: 0), [])

        // The decisions accessor equals frame-by-frame use of one detector.
        let clip = try XCTUnwrap(Self.loadClips().first { $0.sampleRate == 16000 })
        let decisions = try VoicedSegmenter.frameDecisions(samples: clip.samples, sampleRate: 16000, mode: 2, frameMs: 20)
        let direct = try Self.decide(clip, mode: 2, frameMs: 20)
        XCTAssertEqual(decisions.count, VoicedSegmenter.frameCount(sampleCount: clip.samples.count, frameLength: 320))
        XCTAssertEqual(decisions, Array(direct.prefix(decisions.count)))

        // Silence keeps nothing.
        XCTAssertEqual(try VoicedSegmenter.keep(samples: [Int16](repeating: 0, count: 16000)).count, 0)
        XCTAssertEqual(try VoicedSegmenter.keep(samples: []).count, 0)
    }

    func testInvalidArgumentsThrow() throws {
        for mode in [-1, 4, 100] {
            XCTAssertThrowsError(try VoiceActivityDetector(mode: mode, sampleRate: 16000)) {
                XCTAssertEqual(($0 as? AVPGANError)?.kind, .invalidArgument)
            }
        }
        for rate in [0, 11025, 22050, 44100, 96000] {
            XCTAssertThrowsError(try VoiceActivityDetector(mode: 2, sampleRate: rate))
        }
        let vad = try VoiceActivityDetector(mode: 2, sampleRate: 16000)
        for count in [0, 1, 159, 161, 200, 479, 481, 640] {
            XCTAssertThrowsError(try vad.isSpeech([Int16](repeating: 0, count: count)), "\(count) samples")
        }
        for count in [160, 320, 480] { XCTAssertNoThrow(try vad.isSpeech([Int16](repeating: 0, count: count))) }
        XCTAssertThrowsError(try VoicedSegmenter.keep(samples: [Int16](repeating: 0, count: 1000), frameMs: 25))
        XCTAssertThrowsError(try VoicedSegmenter.keep(samples: [Int16](repeating: 0, count: 1000), mode: 5))
        XCTAssertThrowsError(try VoicedSegmenter.keep(samples: [Int16](repeating: 0, count: 1000), paddingMs: -1))
    }

    func testResetReproducesAFreshDetector() throws {
        let clip = try XCTUnwrap(Self.loadClips().first { $0.sampleRate == 16000 })
        let vad = try VoiceActivityDetector(mode: 1, sampleRate: 16000)
        let frames = stride(from: 0, through: clip.samples.count - 480, by: 480).map { Array(clip.samples[$0..<($0 + 480)]) }
        let first = try frames.map { try vad.isSpeech($0) }
        vad.reset()
        let second = try frames.map { try vad.isSpeech($0) }
        XCTAssertEqual(first, second)
    }

    /// Extreme inputs (full-scale square waves, -32768 runs, alternating signs) must not trap.
    func testExtremeInputsDoNotTrap() throws {
        for rate in VoiceActivityDetector.supportedSampleRates {
            for mode in 0...3 {
                let vad = try VoiceActivityDetector(mode: mode, sampleRate: rate)
                let n = rate / 100
                for pattern in 0..<4 {
                    let frame: [Int16] = (0..<(3 * n)).map { i in
                        switch pattern {
                        case 0: return (i / 7) % 2 == 0 ? .max : .min
                        case 1: return .min
                        case 2: return i % 2 == 0 ? .max : .min
                        default: return Int16(truncatingIfNeeded: i &* 7919)
                        }
                    }
                    for _ in 0..<30 { _ = try vad.isSpeech(frame) }
                }
            }
        }
    }
}
