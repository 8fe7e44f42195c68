@testable import AVPGANCore
import XCTest

/// The writer produces files the reader takes back with identical results, and refuses
/// what the reader would refuse.
final class ModelFileWriterTests: XCTestCase {
    func testRoundTripGivesIdenticalModel() throws {
        for arch in Fixtures.architectures {
            let path = "\(Fixtures.golden(arch))/model.safetensors"
            let file = try Safetensors(bytes: try FileIO.read(path))
            let config = try ModelConfig.parse(metadata: file.metadata)
            var tensors: [String: [Float]] = [:]
            for e in file.entries { tensors[e.name] = try file.floats(e) }
            let bytes = try ModelFileWriter.serialize(config: config, tensors: tensors, metadata: ["avpgan.source": "round trip"])
            let copy = try Model(bytes: bytes), original = try Model(path: path)
            XCTAssertEqual(try Safetensors(bytes: bytes).metadata["avpgan.source"], "round trip")
            let e = original.embedDim
            let input = SeededEmbedding.make(seed: 1, dimension: e) + SeededEmbedding.make(seed: 2, dimension: e)
            var a = [Float](repeating: 0, count: 2 * original.imageFloats), b = a
            try original.generate(embeddings: input, count: 2, embedDim: e, into: &a)
            try copy.generate(embeddings: input, count: 2, embedDim: e, into: &b)
            XCTAssertEqual(a, b, "\(arch): a rewritten model generates differently")
        }
    }

    func testRefusesWhatTheReaderWould() throws {
        let path = "\(Fixtures.golden("voice2face"))/model.safetensors"
        let file = try Safetensors(bytes: try FileIO.read(path))
        let config = try ModelConfig.parse(metadata: file.metadata)
        var tensors: [String: [Float]] = [:]
        for e in file.entries { tensors[e.name] = try file.floats(e) }
        var missing = tensors; missing["generator.model.0.bias"] = nil
        var short = tensors; short["generator.model.0.bias"]?.removeLast()
        var extra = tensors; extra["generator.model.99.weight"] = [1]
        var nan = tensors; nan["generator.model.0.bias"]?[0] = .nan
        for (what, t, fragment) in [("missing", missing, "missing"), ("short", short, "needs"),
                                    ("extra", extra, "not part"), ("nan", nan, "non-finite")] {
            XCTAssertThrowsError(try ModelFileWriter.serialize(config: config, tensors: t), what) { e in
                XCTAssertTrue((e as? AVPGANError)?.message.contains(fragment) == true, "\(what): \(e)")
            }
        }
        XCTAssertThrowsError(try ModelFileWriter.serialize(config: config, tensors: tensors, metadata: ["avpgan.arch": "avpgan"]),
                             "metadata must not override the config's")
    }
}
