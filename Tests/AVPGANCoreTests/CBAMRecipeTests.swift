@testable import AVPGANCore
import XCTest

/// The recipe options generator_cbam false (CBAM in the face encoder only) and cbam_reduction
/// (CBAM's channel-MLP width): the tensors follow them, the config says so in files of every
/// kind, and a trained model exports and generates with them.
final class CBAMRecipeTests: XCTestCase {
    let tiny = ModelConfig(arch: .avpgan, networks: NetworkName.allCases, embedDim: 16, voiceWidths: [32, 48, 64, 96],
                           generatorWidths: [128, 64, 32, 16, 16], faceWidths: [8, 16, 32, 32, 64], identities: 4,
                           spectralNorm: .stored)

    func testGeneratorWithoutCBAMRoundTripsAndIsCheckedAgainstTheArchitecture() throws {
        var c = tiny
        XCTAssertFalse(c.metadata["avpgan.config"]!.contains("generator_cbam"),
                       "the reference configuration writes no new field, so its files stay as they were")
        c.generatorCBAM = false
        XCTAssertEqual(try ModelConfig.parse(metadata: c.metadata), c)
        XCTAssertFalse(c.hasCBAM(.generator), "generator_cbam false: no CBAM in the generator")
        XCTAssertTrue(c.hasCBAM(.faceEncoder), "generator_cbam false: the face encoder keeps CBAM")
        let names = TensorLayout.tensors(for: c).map(\.name)
        XCTAssertFalse(names.contains { $0.hasPrefix("generator.") && $0.contains(".mlp.") }, "generator tensors: \(names)")
        XCTAssertTrue(names.contains("face_encoder.model.4.mlp.0.weight"), "face-encoder CBAM tensors missing: \(names)")
        XCTAssertTrue(names.contains("generator.model.10.weight") && names.contains("generator.model.10.bias"),
                      "without CBAM the generator's final layer is index 10 (as avpgan-nocbam's): \(names)")

        var meta = c.metadata
        meta["avpgan.config"] = meta["avpgan.config"]!.replacingOccurrences(of: "\"generator_cbam\":false", with: "\"generator_cbam\":\"no\"")
        XCTAssertThrowsError(try ModelConfig.parse(metadata: meta)) { XCTAssertTrue("\($0)".contains("generator_cbam"), "\($0)") }
        var nocbam = tiny
        nocbam.arch = .avpganNoCBAM
        var m = nocbam.metadata
        m["avpgan.config"] = String(m["avpgan.config"]!.dropLast()) + ",\"generator_cbam\":false}"
        XCTAssertThrowsError(try ModelConfig.parse(metadata: m)) { XCTAssertTrue("\($0)".contains("no CBAM"), "\($0)") }
    }

    func testReductionSetsTheHiddenWidth() throws {
        var c = tiny
        c.cbamReduction = 4
        XCTAssertEqual(try ModelConfig.parse(metadata: c.metadata), c)
        let shapes = Dictionary(uniqueKeysWithValues: TensorLayout.tensors(for: c).map { ($0.name, $0.shape) })
        // Generator block 2 has 64 channels, face-encoder block 2 has 16: 64/4 and 16/4 hidden units.
        XCTAssertEqual(shapes["generator.model.4.mlp.0.weight"], [16, 64, 1, 1])
        XCTAssertEqual(shapes["face_encoder.model.4.mlp.0.weight"], [4, 16, 1, 1])
    }

    /// One step of each option, a checkpoint round trip, and an exported model that generates.
    func testTrainerCheckpointAndExport() throws {
        let golden = try Safetensors(bytes: try FileIO.read("\(Fixtures.golden("avpgan"))/model-sn-stored.safetensors"))
        for (generatorCBAM, reduction) in [(false, 16), (true, 4)] {
            var config = try ModelConfig.parse(metadata: golden.metadata)
            config.generatorCBAM = generatorCBAM
            config.cbamReduction = reduction
            var tensors = NetworkInitializer.tensors(for: config, seed: 3)
            for e in golden.entries where e.name.hasPrefix("voice_encoder.") { tensors[e.name] = try golden.floats(e) }
            let trainer = try GANTrainer(config: config, tensors: tensors)
            let n = 3, frames = 40, s = config.imageSize, e = config.embedDim
            var rng = SplitMix(seed: 9)
            let voices = (0..<(n * frames * 64)).map { _ in rng.unit() * 2 - 1 }
            let faces = (0..<(n * 3 * s * s)).map { _ in rng.unit() * 2 - 1 }
            let losses = try trainer.step(voices: voices, frames: frames, voiceLabels: [0, 1, 2], faces: faces, faceLabels: [2, 1, 0],
                                          noise: [Float](repeating: 0.01, count: n * e))
            let label = "generator_cbam \(generatorCBAM), reduction \(reduction)"
            XCTAssertTrue(losses.allSatisfy(\.isFinite), "\(label): \(losses)")
            let back = try TrainingCheckpoint(bytes: try trainer.checkpoint(step: 1, rng: 5).serialize())
            XCTAssertEqual(back.config.generatorCBAM, generatorCBAM, label)
            XCTAssertEqual(back.config.cbamReduction, reduction, label)
            let model = try Model(bytes: try back.exportModel())
            XCTAssertEqual(model.config.generatorCBAM, generatorCBAM, label)
            var out = [Float](repeating: 0, count: model.imageFloats)
            try model.generate(embeddings: SeededEmbedding.make(seed: 1, dimension: e), count: 1, embedDim: e, into: &out)
            XCTAssertTrue(out.allSatisfy(\.isFinite), "\(label): the exported model generates finite faces")
        }
    }
}
