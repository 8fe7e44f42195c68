@testable import AVPGANCore
import XCTest

/// The recipe options generator_cbam false (CBAM in the face encoder only), cbam_reduction
/// (CBAM's channel-MLP width) and cbam_gate (the reference's sigmoid gate or the residual
/// `x (1 + M)`): the tensors follow them, the config says so in files of every kind, and a
/// trained model exports and generates with them.
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

    func testGateRoundTripsAndIsCheckedAgainstTheArchitecture() throws {
        XCTAssertEqual(tiny.cbamGate, .sigmoid, "the default gate is the reference's")
        XCTAssertFalse(tiny.metadata["avpgan.config"]!.contains("cbam_gate"),
                       "the reference's gate writes no new field, so its files stay as they were")
        XCTAssertEqual(try ModelConfig.parse(metadata: tiny.metadata).cbamGate, .sigmoid, "a file without cbam_gate loads as sigmoid")
        var c = tiny
        c.cbamGate = .residual
        XCTAssertTrue(c.metadata["avpgan.config"]!.contains("\"cbam_gate\":\"residual\""), c.metadata["avpgan.config"]!)
        XCTAssertEqual(try ModelConfig.parse(metadata: c.metadata), c)
        XCTAssertEqual(TensorLayout.tensors(for: c).map(\.name), TensorLayout.tensors(for: tiny).map(\.name),
                       "the gate changes no tensor")
        for bad in ["\"softmax\"", "1", "true"] {
            var meta = c.metadata
            meta["avpgan.config"] = meta["avpgan.config"]!.replacingOccurrences(of: "\"cbam_gate\":\"residual\"", with: "\"cbam_gate\":\(bad)")
            XCTAssertThrowsError(try ModelConfig.parse(metadata: meta), "cbam_gate \(bad) must be refused") {
                XCTAssertTrue("\($0)".contains("cbam_gate") && "\($0)".contains("residual"), "the message names the field and its values: \($0)")
            }
        }
        var nocbam = tiny
        nocbam.arch = .avpganNoCBAM
        var m = nocbam.metadata
        m["avpgan.config"] = String(m["avpgan.config"]!.dropLast()) + ",\"cbam_gate\":\"residual\"}"
        XCTAssertThrowsError(try ModelConfig.parse(metadata: m)) { XCTAssertTrue("\($0)".contains("no CBAM"), "\($0)") }
    }

    /// One step of each option, a checkpoint round trip, and an exported model that generates
    /// (with the residual gate: other faces than the same weights with the sigmoid gate).
    func testTrainerCheckpointAndExport() throws {
        for (generatorCBAM, reduction, gate) in [(false, 16, CBAMGate.sigmoid), (true, 4, .sigmoid), (true, 16, .residual)] {
            let trainer = try Fixtures.goldenTrainer { config in
                config.generatorCBAM = generatorCBAM
                config.cbamReduction = reduction
                config.cbamGate = gate
            }
            let e = trainer.config.embedDim
            let losses = try Fixtures.stepOnRandomBatch(trainer)
            let label = "generator_cbam \(generatorCBAM), reduction \(reduction), gate \(gate.rawValue)"
            XCTAssertTrue(losses.allSatisfy(\.isFinite), "\(label): \(losses)")
            let back = try TrainingCheckpoint(bytes: try trainer.checkpoint(step: 1, rng: 5).serialize())
            XCTAssertEqual(back.config.generatorCBAM, generatorCBAM, label)
            XCTAssertEqual(back.config.cbamReduction, reduction, label)
            XCTAssertEqual(back.config.cbamGate, gate, "\(label): the checkpoint keeps the gate, so a resumed run uses it")
            let exported = try back.exportModel()
            let model = try Model(bytes: exported)
            XCTAssertEqual(model.config.generatorCBAM, generatorCBAM, label)
            XCTAssertEqual(model.config.cbamGate, gate, "\(label): the exported model generates with the gate it was trained with")
            var out = [Float](repeating: 0, count: model.imageFloats)
            try model.generate(embeddings: SeededEmbedding.make(seed: 1, dimension: e), count: 1, embedDim: e, into: &out)
            XCTAssertTrue(out.allSatisfy(\.isFinite), "\(label): the exported model generates finite faces")
            guard gate == .residual else { continue }
            // The same weights with the sigmoid gate.
            let file = try Safetensors(bytes: exported)
            var weights: [String: [Float]] = [:]
            for t in file.entries { weights[t.name] = try file.floats(t) }
            var sigmoidConfig = model.config
            sigmoidConfig.cbamGate = .sigmoid
            let same = try Model(bytes: try ModelFileWriter.serialize(config: sigmoidConfig, tensors: weights))
            var other = [Float](repeating: 0, count: same.imageFloats)
            try same.generate(embeddings: SeededEmbedding.make(seed: 1, dimension: e), count: 1, embedDim: e, into: &other)
            XCTAssertNotEqual(out, other, "\(label): inference must apply the residual gate, not the sigmoid one")
        }
    }
}
