@testable import AVPGANCore
import CSndfile
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The data set layout, the on-disk feature cache and batch sampling.
final class DatasetTests: XCTestCase {
    var root = ""

    override func setUpWithError() throws {
        root = Fixtures.temporaryDirectory("data")
        let speakers = SyntheticSpeaker.make(count: 4, seed: 11)
        for dir in ["voices", "faces"] { mkdir("\(root)/\(dir)", 0o755) }
        for (i, s) in speakers.enumerated() {
            mkdir("\(root)/voices/\(s.id)", 0o755)
            mkdir("\(root)/voices/\(s.id)/session", 0o755)  // recordings may sit in subfolders
            mkdir("\(root)/faces/\(s.id)", 0o755)
            for k in 0..<2 {
                // A tone per speaker (pitch by identity), 1.5-3 s: the VAD is turned off in these tests.
                let rate = 16000, n = rate * (3 + k) / 2
                let f0 = 120 + 40 * Double(i)
                let x = (0..<n).map { j in Float(0.3 * sin(2 * .pi * f0 * Double(j) / Double(rate)) * (0.6 + 0.4 * sin(Double(j) / 900))) }
                var info = SF_INFO()
                info.samplerate = Int32(rate); info.channels = 1; info.format = Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_16)
                let file = sf_open("\(root)/voices/\(s.id)/session/\(k).wav", Int32(SFM_WRITE), &info)!
                _ = x.withUnsafeBufferPointer { sf_writef_float(file, $0.baseAddress, sf_count_t(n)) }
                sf_close(file)
                let png = try SyntheticFace.draw(s, index: k).withUnsafeBufferPointer {
                    try PNGCodec.encodeRGB8($0.baseAddress!, width: 64, height: 64)
                }
                try FileIO.write(png, to: "\(root)/faces/\(s.id)/\(k).png")
            }
        }
        mkdir("\(root)/voices/only-voice", 0o755)  // an identity without faces is ignored
        try FileIO.write(Array("\(speakers[3].id)\n".utf8), to: "\(root)/test.txt")
    }

    override func tearDown() { Fixtures.removeDirectory(root) }

    func testIndexCacheAndBatches() throws {
        let index = try DatasetIndex(voices: "\(root)/voices", faces: "\(root)/faces", testList: "\(root)/test.txt")
        XCTAssertEqual(index.train.count, 3, "3 training identities (one held out, one without faces)")
        XCTAssertEqual(index.test.count, 1)
        XCTAssertEqual(index.train[0].voices.count, 2, "recordings in subfolders are found")

        let cache = try FeatureCache(directory: "\(root)/cache", options: FrontEndOptions(vad: false))
        let first = try cache.features(index.train[0].voices[1])
        XCTAssertEqual(first.frames, 32000 / 160 + 1, "computed frames of the 2 s recording")
        let path = try cache.entryPath(index.train[0].voices[1])
        var st = stat(); stat(path, &st)
        let again = try cache.features(index.train[0].voices[1])
        var st2 = stat(); stat(path, &st2)
        XCTAssertEqual(first.values, again.values)
        XCTAssertEqual(st.st_mtim.tv_nsec, st2.st_mtim.tv_nsec, "the second read comes from the cache, not a rewrite")
        let direct = try FrontEnd.features(try AudioDecoder.decode(path: index.train[0].voices[1]), options: FrontEndOptions(vad: false))
        XCTAssertEqual(Array(direct.values.prefix(first.frames * 64)), first.values, "cached features equal the front end's")

        var sampler = try BatchSampler(index: index, cache: cache, seed: 5)
        var lengths = Set<Int>()
        for _ in 0..<20 {
            let b = sampler.next(batch: 6)
            XCTAssertTrue((300...800).contains(b.frames))
            lengths.insert(b.frames)
            XCTAssertEqual(b.voices.count, 6 * b.frames * 64)
            XCTAssertEqual(b.faces.count, 6 * 3 * 64 * 64)
            XCTAssertTrue(b.voiceLabels.allSatisfy { (0..<3).contains($0) } && b.faceLabels.allSatisfy { (0..<3).contains($0) })
            XCTAssertTrue(b.faces.allSatisfy { $0 >= -1 && $0 <= 1 }, "faces in [-1, 1]")
        }
        XCTAssertGreaterThan(lengths.count, 5, "crop lengths vary")
        var s1 = try BatchSampler(index: index, cache: cache, seed: 9), s2 = try BatchSampler(index: index, cache: cache, seed: 9)
        XCTAssertEqual(s1.next(batch: 4).voices, s2.next(batch: 4).voices, "deterministic for a seed")
    }

    func testInitialLetterSplit() throws {
        // Folders named as VoxCeleb/VGGFace celebrities: A-B validation, C-E test, the rest training.
        let dir = Fixtures.temporaryDirectory("letters")
        defer { Fixtures.removeDirectory(dir) }
        for sub in ["voices", "faces"] { mkdir("\(dir)/\(sub)", 0o755) }
        let names = ["Adam_A", "bella_b", "Carl_C", "Dora_D", "eve_e", "Fred_F", "Zoe_Z", "Ida_I"]
        for name in names {
            for sub in ["voices", "faces"] { mkdir("\(dir)/\(sub)/\(name)", 0o755) }
            try FileIO.write([0], to: "\(dir)/voices/\(name)/0.wav")
            try FileIO.write([0], to: "\(dir)/faces/\(name)/0.png")
        }
        let index = try DatasetIndex(voices: "\(dir)/voices", faces: "\(dir)/faces", initialLetterSplit: true)
        XCTAssertEqual(index.validation.map(\.name), ["Adam_A", "bella_b"], "A-B (any case) are validation identities")
        XCTAssertEqual(index.test.map(\.name), ["Carl_C", "Dora_D", "eve_e"], "C-E are test identities")
        XCTAssertEqual(index.train.map(\.name), ["Fred_F", "Ida_I", "Zoe_Z"], "the rest train, sorted")
        XCTAssertThrowsError(try DatasetIndex(voices: "\(dir)/voices", faces: "\(dir)/faces", testList: "\(root)/test.txt",
                                              initialLetterSplit: true), "a list and the rule exclude each other")
        let listed = try DatasetIndex(voices: "\(root)/voices", faces: "\(root)/faces", testList: "\(root)/test.txt")
        XCTAssertTrue(listed.validation.isEmpty, "a test list makes no validation split")
    }

    func testFaceResizeAndFlip() {
        // A 2x2 image averaged to 1x1, and a flip.
        let tiny: [UInt8] = [0, 0, 0, 255, 255, 255, 0, 0, 0, 255, 255, 255]
        XCTAssertEqual(FaceImage.resize(tiny, width: 2, height: 2, to: 1), [0, 0, 0])
        let same = FaceImage.resize(SyntheticFace.draw(SyntheticSpeaker.make(count: 1, seed: 1)[0], index: 0), width: 64, height: 64, to: 64)
        XCTAssertEqual(FaceImage.flipped(FaceImage.flipped(same)), same)
        XCTAssertNotEqual(FaceImage.flipped(same), same)
    }
}
