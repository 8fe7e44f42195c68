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
