@testable import AVPGANCore
import XCTest

/// The whole front end against the reference: FrontEnd.features(x) must equal
/// fbank(vad_keep(x)) (fixtures from tools/fixtures/make_frontend_fixtures.py), and portraits built on it.
final class FrontEndTests: XCTestCase {
    let dir = "\(Fixtures.root)/frontend"

    func audio(_ name: String) throws -> DecodedAudio {
        let samples = try LogMelTests.int16Samples("\(dir)/\(name).npy")
        return DecodedAudio(samples: samples, sampleRate: 16000, originalRate: 16000, channels: 1, format: "test")
    }

    func testVADThenLogMelMatchesReference() throws {
        let input = try audio("vad.input")
        let kept = try LogMelTests.int16Samples("\(dir)/vad.kept.npy")
        let (reference, shape) = try LogMelTests.floats("\(dir)/vad.fbank.npy")
        let f = try FrontEnd.features(input)
        XCTAssertEqual(f.voicedSeconds, Double(kept.count) / 16000, "voiced duration: the VAD kept a different amount than vad_keep")
        XCTAssertLessThan(f.voicedSeconds, input.seconds, "the fixture has silences to remove")
        let (d, t, band) = LogMelTests.compare(f.values, frames: f.frames, reference, refFrames: shape[0])
        XCTAssertLessThan(d, 1e-3, "front end vs fbank(vad_keep(x)): differs by \(d) at frame \(t), band \(band)")
    }

    func testWithoutVADAndFirstSeconds() throws {
        let en = try audio("en.samples")
        let (all, shapeAll) = try LogMelTests.floats("\(dir)/en.fbank.npy")
        let f = try FrontEnd.features(en, options: FrontEndOptions(vad: false))
        XCTAssertEqual(f.computedFrames, shapeAll[0])
        XCTAssertLessThan(LogMelTests.compare(f.values, frames: f.frames, all, refFrames: shapeAll[0]).0, 1e-3, "VAD off")
        let (first, shape2) = try LogMelTests.floats("\(dir)/en.first2s.fbank.npy")
        let g = try FrontEnd.features(en, options: FrontEndOptions(seconds: 2, vad: false))
        XCTAssertEqual(g.voicedSeconds, 2)
        XCTAssertLessThan(LogMelTests.compare(g.values, frames: g.frames, first, refFrames: shape2[0]).0, 1e-3, "first 2 s")
    }

    func testNoSpeechAndBadOptions() throws {
        let silence = DecodedAudio(samples: [Float](repeating: 0, count: 32000), sampleRate: 16000, originalRate: 16000, channels: 1, format: "")
        let empty = DecodedAudio(samples: [], sampleRate: 16000, originalRate: 16000, channels: 1, format: "")
        for (what, a, options, kind, fragment) in [
            ("silence", silence, FrontEndOptions(), ErrorKind.noSpeech, "no speech"),
            ("empty", empty, FrontEndOptions(), .noSpeech, "no samples"),
            ("seconds", silence, FrontEndOptions(seconds: -1), .invalidArgument, "seconds"),
            ("mode", silence, FrontEndOptions(vadMode: 4), .invalidArgument, "vad_mode"),
        ] {
            XCTAssertThrowsError(try FrontEnd.features(a, options: options), what) { e in
                XCTAssertEqual((e as? AVPGANError)?.kind, kind, "\(what): \(e)")
                XCTAssertTrue((e as? AVPGANError)?.message.contains(fragment) == true, "\(what): \(e)")
            }
        }
    }

    func testPortraitUsesTheFrontEndAndCarriesProvenance() throws {
        let model = try Model(path: "\(Fixtures.golden("avpgan"))/model.safetensors")
        let input = try audio("vad.input")
        let p = try model.portrait(input)
        let f = try FrontEnd.features(input)
        var e = [Float](repeating: 0, count: model.embedDim)
        try model.embed(features: f.values, frames: f.frames, melBands: 64, into: &e)
        XCTAssertEqual(p.embedding, e, "portrait embedding differs from embed(features)")
        var expected = [UInt8](repeating: 0, count: model.imageFloats)
        try model.generateRGB8(embeddings: e, count: 1, embedDim: model.embedDim, pixels: nil, into: &expected)
        XCTAssertEqual(p.pixels, expected)
        // Noise is repeatable by seed and changes the face.
        let n1 = try model.portrait(input, options: PortraitOptions(noise: 0.3, seed: 5))
        let n2 = try model.portrait(input, options: PortraitOptions(noise: 0.3, seed: 5))
        XCTAssertEqual(n1.embedding, n2.embedding)
        XCTAssertNotEqual(n1.embedding, p.embedding)
        XCTAssertEqual(n1.embedding.reduce(0) { $0 + $1 * $1 }, 1, accuracy: 1e-5, "noisy embedding re-normalised")
        // PNG provenance.
        var pipeline = try PortraitPipeline(model: model)
        let png = try pipeline.png(of: p, audioSHA256: "abc")
        XCTAssertEqual(png, try pipeline.png(of: p, audioSHA256: "abc"), "deterministic")
        let text = Dictionary(uniqueKeysWithValues: PNGText.read(png))
        XCTAssertEqual(text["Description"], portraitNotice)
        XCTAssertEqual(text["avpgan:model-sha256"], model.sha256)
        XCTAssertEqual(text["avpgan:audio-sha256"], "abc")
        XCTAssertEqual(text["avpgan:parameters"], "seconds=all vad=on vad_mode=2 pixels=clamp noise=0.0 seed=0")
        XCTAssertNil(text["Creation Time"], "no timestamp unless asked")
        pipeline.options.timestamp = true
        let stamped = try pipeline.png(of: p, audioSHA256: "abc")
        XCTAssertNotNil(Dictionary(uniqueKeysWithValues: PNGText.read(stamped))["Creation Time"])
        XCTAssertEqual(try PNGCodec.decodeRGB8(png).pixels, p.pixels, "the PNG holds the portrait's pixels")
    }
}
