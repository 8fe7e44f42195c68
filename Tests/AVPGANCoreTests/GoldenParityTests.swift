@testable import AVPGANCore
import XCTest

/// The networks against the PyTorch reference: fixtures made by tools/fixtures/make_golden.py at TINY
/// widths with random weights and non-trivial BatchNorm statistics, for every architecture.
final class GoldenParityTests: XCTestCase {
    static let embeddingTolerance: Float = 1e-4
    static let imageTolerance: Float = 1e-3

    func testAllArchitecturesMatchReference() throws {
        for arch in Fixtures.architectures {
            try check(arch: arch, modelFile: "model.safetensors")
        }
    }

    func testStoredSpectralNormMatchesReference() throws {
        try check(arch: "avpgan", modelFile: "model-sn-stored.safetensors")
    }

    /// Batches larger than one GEMM sub-batch (at TINY widths the last generator layer takes
    /// 16 images per GEMM) and than one outer chunk must give every image its reference value.
    func testLargeBatchesMatchReference() throws {
        let dir = Fixtures.golden("avpgan")
        let model = try Model(path: "\(dir)/model.safetensors", options: LoadOptions(inferenceOnly: false))
        let golden = try Fixtures.Arrays("\(dir)/golden.safetensors")
        let input = try golden.floats("gen_input"), expected = try golden.floats("images")
        let n = golden.shape("gen_input")[0], copies = 8
        let many = Array(repeating: input, count: copies).flatMap { $0 }
        var images = [Float](repeating: 0, count: n * copies * model.imageFloats)
        try model.generate(embeddings: many, count: n * copies, embedDim: model.embedDim, into: &images)
        let d = maxAbsDifference(images, Array(repeating: expected, count: copies).flatMap { $0 })
        XCTAssertLessThanOrEqual(d.value, Self.imageTolerance,
                                 "batch of \(n * copies): image \(d.index / model.imageFloats) differs by \(d.value)")
        let faces = try golden.floats("face_input"), m = golden.shape("face_input")[0]
        var embeddings = [Float](repeating: 0, count: m * copies * model.embedDim)
        try model.encodeFaces(images: Array(repeating: faces, count: copies).flatMap { $0 }, count: m * copies, into: &embeddings)
        let f = maxAbsDifference(embeddings, Array(repeating: try golden.floats("face_embedding"), count: copies).flatMap { $0 })
        XCTAssertLessThanOrEqual(f.value, Self.embeddingTolerance, "face batch of \(m * copies): differs by \(f.value) at \(f.index)")
    }

    private func check(arch: String, modelFile: String) throws {
        let dir = Fixtures.golden(arch)
        let what = "\(arch)/\(modelFile)"
        let model = try Model(path: "\(dir)/\(modelFile)", options: LoadOptions(inferenceOnly: false))
        let golden = try Fixtures.Arrays("\(dir)/golden.safetensors")
        XCTAssertEqual(model.config.arch.rawValue, arch, what)
        let e = model.embedDim

        // Voice encoder, several lengths (1000 frames down to 1).
        for k in 0..<5 {
            let features = try golden.floats("features_\(k)")
            let frames = golden.shape("features_\(k)")[0]
            let expected = try golden.floats("embedding_\(k)")
            var got = [Float](repeating: 0, count: e)
            try model.embed(features: features, frames: frames, melBands: 64, into: &got)
            let d = maxAbsDifference(got, expected)
            XCTAssertLessThanOrEqual(d.value, Self.embeddingTolerance,
                                     "\(what): embedding of features_\(k) (\(frames) frames) differs by \(d.value) at \(d.index)")
        }

        // Generator: raw output and both pixel mappings.
        let input = try golden.floats("gen_input")
        let n = golden.shape("gen_input")[0]
        let expectedImages = try golden.floats("images")
        var images = [Float](repeating: 0, count: n * model.imageFloats)
        try model.generate(embeddings: input, count: n, embedDim: e, into: &images)
        let d = maxAbsDifference(images, expectedImages)
        XCTAssertLessThanOrEqual(d.value, Self.imageTolerance,
                                 "\(what): generated image differs by \(d.value) at element \(d.index) (image \(d.index / model.imageFloats))")
        for mapping in PixelMapping.allCases {
            var pixels = [UInt8](repeating: 0, count: n * model.imageFloats)
            try model.generateRGB8(embeddings: input, count: n, embedDim: e, pixels: mapping, into: &pixels)
            let expected = golden.bytes("pixels_\(mapping.rawValue)")
            XCTAssertEqual(expected.count, pixels.count, "\(what): pixels_\(mapping.rawValue) size")
            let off = zip(pixels, expected).filter { $0 != $1 }
            let far = off.filter { abs(Int($0) - Int($1)) > 1 }
            XCTAssertTrue(far.isEmpty, "\(what): \(far.count) \(mapping.rawValue) pixels differ by more than 1")
            XCTAssertLessThanOrEqual(off.count, 8, "\(what): \(off.count) \(mapping.rawValue) pixels differ by 1 (rounding at a .5 boundary)")
        }

        // Face encoder and heads.
        let faces = try golden.floats("face_input")
        let m = golden.shape("face_input")[0]
        var faceEmbedding = [Float](repeating: 0, count: m * e)
        try model.encodeFaces(images: faces, count: m, into: &faceEmbedding)
        let f = maxAbsDifference(faceEmbedding, try golden.floats("face_embedding"))
        XCTAssertLessThanOrEqual(f.value, Self.embeddingTolerance, "\(what): face embedding differs by \(f.value) at \(f.index)")
        var realness = [Float](repeating: 0, count: m)
        var logits = [Float](repeating: 0, count: m * model.config.identities)
        try model.heads(embeddings: faceEmbedding, count: m, realness: &realness, identityLogits: &logits)
        let dr = maxAbsDifference(realness, try golden.floats("disc_logit"))
        let cl = maxAbsDifference(logits, try golden.floats("class_logits"))
        XCTAssertLessThanOrEqual(dr.value, Self.embeddingTolerance, "\(what): discriminator logit differs by \(dr.value)")
        XCTAssertLessThanOrEqual(cl.value, Self.embeddingTolerance, "\(what): classifier logits differ by \(cl.value)")
    }
}
