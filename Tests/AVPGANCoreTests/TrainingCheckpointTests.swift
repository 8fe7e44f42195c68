@testable import AVPGANCore
import XCTest

/// Checkpoints round-trip exactly, refuse what does not belong, and export inference models.
final class TrainingCheckpointTests: XCTestCase {
    func goldenCheckpoint() throws -> TrainingCheckpoint {
        let file = try Safetensors(bytes: try FileIO.read("\(Fixtures.golden("avpgan"))/model-sn-stored.safetensors"))
        let config = try ModelConfig.parse(metadata: file.metadata)
        var tensors: [String: [Float]] = [:]
        for e in file.entries { tensors[e.name] = try file.floats(e) }
        var m: [String: [Float]] = [:], v: [String: [Float]] = [:]
        for (i, t) in TrainingCheckpoint.trainedParameters(config).enumerated() {
            let n = t.shape.reduce(1, *)
            m[t.name] = (0..<n).map { Float($0 % 7) * 1e-3 + Float(i) }
            v[t.name] = (0..<n).map { Float($0 % 5) * 1e-6 }
        }
        return TrainingCheckpoint(config: config, tensors: tensors, exp_avg: m, exp_avg_sq: v, step: 1234, adamStep: 1234,
                                  rng: 0xFEDC_BA98_7654_3210)
    }

    func testRoundTrip() throws {
        let c = try goldenCheckpoint()
        let back = try TrainingCheckpoint(bytes: try c.serialize())
        XCTAssertEqual(back.tensors, c.tensors)
        XCTAssertEqual(back.exp_avg, c.exp_avg)
        XCTAssertEqual(back.exp_avg_sq, c.exp_avg_sq)
        XCTAssertEqual(back.step, 1234)
        XCTAssertEqual(back.rng, 0xFEDC_BA98_7654_3210, "the generator state survives exactly")
        XCTAssertEqual(back.config, c.config)
        XCTAssertEqual(try back.serialize(), try c.serialize(), "byte-identical re-serialisation")
    }

    func testRefusals() throws {
        var c = try goldenCheckpoint()
        c.exp_avg["generator.model.0.bias"] = nil
        XCTAssertThrowsError(try c.serialize()) { XCTAssertTrue("\($0)".contains("generator.model.0.bias")) }
        let model = try FileIO.read("\(Fixtures.golden("avpgan"))/model-sn-stored.safetensors")
        XCTAssertThrowsError(try TrainingCheckpoint(bytes: model)) { XCTAssertTrue("\($0)".contains("avpgan.checkpoint"), "\($0)") }
        let folded = try FileIO.read("\(Fixtures.golden("avpgan"))/model.safetensors")
        XCTAssertThrowsError(try TrainingCheckpoint(bytes: folded)) { XCTAssertTrue("\($0)".contains("stored"), "\($0)") }
    }

    func testExportMatchesTorchFoldedModel() throws {
        let exported = try Model(bytes: try goldenCheckpoint().exportModel())
        let folded = try Model(path: "\(Fixtures.golden("avpgan"))/model.safetensors")
        XCTAssertEqual(exported.loaded, [.voiceEncoder, .generator])
        let e = folded.embedDim
        let input = (0..<3).flatMap { SeededEmbedding.make(seed: UInt64($0), dimension: e) }
        var a = [Float](repeating: 0, count: 3 * folded.imageFloats), b = a
        try exported.generate(embeddings: input, count: 3, embedDim: e, into: &a)
        try folded.generate(embeddings: input, count: 3, embedDim: e, into: &b)
        let d = maxAbsDifference(a, b)
        XCTAssertLessThan(d.value, 1e-3, "exported model differs from the torch-folded one by \(d.value)")
    }
}

/// The recipe option generator_spectral_norm false: the generator's layers are plain weights,
/// the face encoder keeps spectral norm, and the config says so in files of every kind.
final class GeneratorSpectralNormTests: XCTestCase {
    func testConfigFieldRoundTripsAndIsCheckedAgainstTheArchitecture() throws {
        var c = ModelConfig(arch: .avpgan, networks: NetworkName.allCases, embedDim: 16, voiceWidths: [32, 48, 64, 96],
                            generatorWidths: [128, 64, 32, 16, 16], faceWidths: [8, 16, 32, 32, 64], identities: 4, spectralNorm: .stored)
        XCTAssertNil(c.metadata["avpgan.config"].flatMap { $0.contains("generator_spectral_norm") ? $0 : nil },
                     "the reference configuration writes no new field, so its files stay as they were")
        c.generatorSpectralNorm = false
        XCTAssertEqual(try ModelConfig.parse(metadata: c.metadata), c)
        let names = Set(TensorLayout.tensors(for: c).map(\.name))
        XCTAssertTrue(names.contains("generator.model.2.weight") && !names.contains("generator.model.2.weight_orig"), "generator layers are plain")
        XCTAssertTrue(names.contains("face_encoder.model.2.weight_orig"), "the face encoder keeps spectral norm")
        XCTAssertFalse(c.spectrallyNormalised(.generator, layer: 1, last: false))
        XCTAssertTrue(c.spectrallyNormalised(.faceEncoder, layer: 1, last: false))

        var meta = c.metadata
        meta["avpgan.config"] = meta["avpgan.config"]!.replacingOccurrences(of: "\"generator_spectral_norm\":false", with: "\"generator_spectral_norm\":0")
        XCTAssertThrowsError(try ModelConfig.parse(metadata: meta)) { XCTAssertTrue("\($0)".contains("generator_spectral_norm"), "\($0)") }
        var v2f = ModelConfig(arch: .voice2face, embedDim: 16, voiceWidths: [32], generatorWidths: [128, 64, 32, 16, 16]).metadata
        v2f["avpgan.config"] = String(v2f["avpgan.config"]!.dropLast()) + ",\"generator_spectral_norm\":false}"
        XCTAssertThrowsError(try ModelConfig.parse(metadata: v2f)) { XCTAssertTrue("\($0)".contains("voice2face"), "\($0)") }
    }

    func testTrainerCheckpointAndExport() throws {
        let trainer = try Fixtures.goldenTrainer { $0.generatorSpectralNorm = false }
        let e = trainer.config.embedDim
        let losses = try Fixtures.stepOnRandomBatch(trainer)
        XCTAssertTrue(losses.allSatisfy(\.isFinite), "\(losses)")
        XCTAssertGreaterThan(trainer.lastSpread, 0, "three different voices give three different faces")
        let checkpoint = trainer.checkpoint(step: 1, rng: 5)
        XCTAssertNotNil(checkpoint.tensors["generator.model.2.weight"])
        XCTAssertNil(checkpoint.tensors["generator.model.2.weight_orig"])
        let back = try TrainingCheckpoint(bytes: try checkpoint.serialize())
        XCTAssertFalse(back.config.generatorSpectralNorm)
        XCTAssertEqual(back.tensors, checkpoint.tensors)
        let model = try Model(bytes: try back.exportModel())
        XCTAssertEqual(model.config.arch, .avpgan)
        var out = [Float](repeating: 0, count: model.imageFloats)
        try model.generate(embeddings: SeededEmbedding.make(seed: 1, dimension: e), count: 1, embedDim: e, into: &out)
        XCTAssertTrue(out.allSatisfy(\.isFinite))
    }
}
