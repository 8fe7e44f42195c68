@testable import AVPGANCore
import XCTest

/// The portrait pipeline's contract: the model is checked for a generator when the pipeline is
/// made, the options before any audio is read, and the PNG carries what the options ask for.
final class PortraitPipelineTests: XCTestCase {
    let modelPath = "\(Fixtures.golden("avpgan"))/model.safetensors"

    func testEncoderOnlyModelIsRefusedWhenThePipelineIsMade() throws {
        let file = try Safetensors(bytes: try Fixtures.bytes(modelPath))
        var config = try ModelConfig.parse(metadata: file.metadata)
        config.networks = [.voiceEncoder]
        config.generatorWidths = []
        config.faceWidths = []
        config.identities = 0
        var tensors: [String: [Float]] = [:]
        for e in file.entries where TensorLayout.belongs(e.name, to: .voiceEncoder) { tensors[e.name] = try file.floats(e) }
        let encoderOnly = try Model(bytes: try ModelFileWriter.serialize(config: config, tensors: tensors))
        XCTAssertThrowsError(try PortraitPipeline(model: encoderOnly)) { error in
            XCTAssertEqual((error as? AVPGANError)?.kind, .missingNetwork, "an encoder-only model must be refused as missing its generator")
        }
    }

    func testOptionsAreCheckedBeforeAnyAudioIsRead() throws {
        let pipeline = try PortraitPipeline(model: try Model(path: modelPath), options: PortraitOptions(noise: 11))
        var read = false
        XCTAssertThrowsError(try pipeline.portrait { read = true; throw AVPGANError(.io, "not reached") }) { error in
            XCTAssertEqual((error as? AVPGANError)?.kind, .invalidArgument, "noise 11 is out of 0...10")
        }
        XCTAssertFalse(read, "the features were read although the options were invalid")
    }

    func testProvenanceOffWritesNoTextChunks() throws {
        let model = try Model(path: modelPath)
        let features: [Float] = (0..<(300 * 64)).map { Float(($0 * 7919) % 1009) / 504.5 - 1 }
        let voice = VoiceFeatures(values: features, frames: 300, computedFrames: 300, inputSeconds: 3, voicedSeconds: 3)
        var pipeline = try PortraitPipeline(model: model)
        let portrait = try pipeline.portrait(features: voice)
        XCTAssertFalse(PNGText.read(try pipeline.png(of: portrait, audioSHA256: "abc")).isEmpty, "provenance is on by default")
        pipeline.options.provenance = false
        let plain = try pipeline.png(of: portrait, audioSHA256: "abc")
        XCTAssertTrue(PNGText.read(plain).isEmpty, "provenance off still wrote text chunks: \(PNGText.read(plain).map(\.0))")
        XCTAssertEqual(try PNGCodec.decodeRGB8(plain).pixels, portrait.pixels, "the PNG holds the portrait's pixels")
    }
}
