@testable import AVPGANCore
import XCTest

/// The face-recognition side of the core: the resize against torch's (fixture), face model
/// files (config checks, damaged files), and the network's invariants. Parity of whole
/// networks with onnxruntime and PyTorch is checked from Python (bindings/python/tests/test_face.py).
final class FaceRecognitionTests: XCTestCase {
    static let faces = "\(Fixtures.root)/face/faces"

    /// `ImageResize` against `torch.nn.functional.interpolate(bilinear, antialias=True)` on the
    /// fixture images (shrinking, enlarging, both at once, and the identity).
    func testResizeMatchesTorch() throws {
        for name in ["astronaut", "astronaut_mirror", "heldout64", "astronaut_90x130", "noise112"] {
            let image = try FaceImage.loadRGB8("\(Self.faces)/\(name).png")
            let (want, shape) = try NPY.read(try FileIO.read("\(Self.faces)/\(name).resized.npy"))
            XCTAssertEqual(shape, [3, 112, 112])
            var got = [Float](repeating: .nan, count: 3 * 112 * 112)
            var scratch = [Float](repeating: 0, count: 3 * image.height * 112)
            image.pixels.withUnsafeBufferPointer { p in
                ImageResize.normalizedPlanes(p.baseAddress!, width: image.width, height: image.height, size: 112,
                                             mean: 0, std: 1, bgr: false, scratch: &scratch, into: &got)
            }
            let worst = zip(got, want).map { abs($0 - $1) }.max()!
            XCTAssertLessThan(worst, 2e-3, "\(name) (\(image.width)x\(image.height)): resize differs from torch's by \(worst) (pixel scale 0-255)")
        }
    }

    /// Deterministic weights for `config`'s layout (not a trained network).
    static func file(_ config: FaceModelConfig, metadata: [String: String]? = nil) -> [UInt8] {
        var s: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Float { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return Float(s % 1_000_000) / 1_000_000 }
        let tensors = FaceLayerSpec.layers(for: config).flatMap { $0.tensors(config.batchNorm) }.map { name, shape in
            let count = shape.reduce(1, *)
            let values: [Float] = (0..<count).map { _ in
                name.hasSuffix("running_var") ? 0.5 + next() : (next() - 0.5) * (shape.count == 4 ? 0.3 : 1)
            }
            return SafetensorsWriter.Tensor(name: name, shape: shape, floats: values)
        }
        return SafetensorsWriter.serialize(tensors, metadata: metadata ?? config.metadata)
    }

    func testConfigChecks() throws {
        let good = FaceModelConfig(arch: .mobileFaceNet)
        let model = try FaceModel(bytes: Self.file(good))
        XCTAssertEqual(model.config, good)
        XCTAssertEqual(model.parameterCount, 1_019_648, "MobileFaceNet with BatchNorm stored has the .pt's 1.02 M parameters")
        let folded = try FaceModel(bytes: Self.file(FaceModelConfig(arch: .mobileFaceNet, batchNorm: .folded)))
        XCTAssertEqual(folded.parameterCount, 989_952, "folded MobileFaceNet (the ONNX file's count)")

        func refused(_ edit: (inout [String: String]) -> Void, _ expected: String, kind: ErrorKind = .modelFormat,
                     file: StaticString = #filePath, line: UInt = #line) {
            var metadata = good.metadata
            edit(&metadata)
            XCTAssertThrowsError(try FaceModel(bytes: Self.file(good, metadata: metadata)), file: file, line: line) { error in
                let e = error as! AVPGANError
                XCTAssertEqual(e.kind, kind, e.message, file: file, line: line)
                XCTAssertTrue(e.message.contains(expected), "\"\(e.message)\" should mention \"\(expected)\"", file: file, line: line)
            }
        }
        refused({ $0["avpgan.arch"] = "resnet" }, "is not one of mobilefacenet")
        refused({ $0["avpgan.arch"] = "avpgan" }, "voice-portrait model")
        refused({ $0["avpgan.format"] = "9" }, "newer", kind: .unsupported)
        refused({ $0["avpgan.config"] = "[1]" }, "not a JSON object")
        refused({ $0["avpgan.config"] = $0["avpgan.config"]!.replacingOccurrences(of: "\"face\"", with: "\"voice\"") }, "kind")
        refused({ $0["avpgan.config"] = $0["avpgan.config"]!.replacingOccurrences(of: "\"stored\"", with: "\"half\"") }, "batch_norm")
        refused({ $0["avpgan.config"] = $0["avpgan.config"]!.replacingOccurrences(of: "\"input_size\":112", with: "\"input_size\":96") },
                "112x112", kind: .unsupported)
        refused({ $0["avpgan.config"] = $0["avpgan.config"]!.replacingOccurrences(of: "\"embed_dim\":128", with: "\"embed_dim\":64") },
                "has shape")
        refused({ $0["avpgan.config"] = $0["avpgan.config"]!.replacingOccurrences(of: "\"input_std\":128", with: "\"input_std\":0") },
                "input_std")
        refused({ $0["avpgan.config"] = $0["avpgan.config"]!.replacingOccurrences(of: "\"stored\"", with: "\"folded\"") }, "missing")
    }

    func testNegativeVarianceIsRefused() throws {
        let config = FaceModelConfig(arch: .mobileFaceNet)
        let tensors = FaceLayerSpec.layers(for: config).flatMap { $0.tensors(config.batchNorm) }.map { name, shape in
            SafetensorsWriter.Tensor(name: name, shape: shape,
                                     floats: [Float](repeating: name == "gdconv.bn.running_var" ? -1 : 0.5, count: shape.reduce(1, *)))
        }
        XCTAssertThrowsError(try FaceModel(bytes: SafetensorsWriter.serialize(tensors, metadata: config.metadata))) { error in
            XCTAssertTrue((error as! AVPGANError).message.contains("gdconv.bn.running_var"), "\(error)")
        }
    }

    /// Randomly damaged face model files either load and embed, or are refused with a message.
    func testDamagedFilesNeverCrash() throws {
        let good = Self.file(FaceModelConfig(arch: .mobileFaceNet, batchNorm: .folded))
        var headerEnd = 8
        for i in 0..<8 { headerEnd += Int(good[i]) << (8 * i) }
        var rng = SystemRandomNumberGenerator.Seeded(seed: 77)
        let image = FaceModel.Image(pixels: (0..<(30 * 20 * 3)).map { UInt8(truncatingIfNeeded: $0 * 7) }, width: 30, height: 20)
        var refused = 0, loaded = 0
        for trial in 0..<150 {
            var bytes = good
            switch trial % 3 {
            case 0: for _ in 0..<Int.random(in: 1...3, using: &rng) { bytes[Int.random(in: 0..<headerEnd, using: &rng)] = .random(in: 0...255, using: &rng) }
            case 1: bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &rng)))
            default: for _ in 0..<Int.random(in: 1...40, using: &rng) { bytes[Int.random(in: headerEnd..<bytes.count, using: &rng)] = .random(in: 0...255, using: &rng) }
            }
            do {
                let model = try FaceModel(bytes: bytes)
                _ = try model.embed(image)
                loaded += 1
            } catch let error as AVPGANError {
                XCTAssertFalse(error.message.isEmpty)
                refused += 1
            }
        }
        XCTAssertEqual(refused + loaded, 150)
        XCTAssertGreaterThan(refused, 50, "most damage to the header or the length is refused")
    }

    /// A batch embeds each image as it would alone (CNHW batching, chunking), up to the
    /// rounding of GEMMs whose blocking depends on the batch.
    func testBatchEqualsSingles() throws {
        let model = try FaceModel(bytes: Self.file(FaceModelConfig(arch: .mobileFaceNet)))
        let images = (0..<5).map { k in
            FaceModel.Image(pixels: (0..<(40 * (30 + k) * 3)).map { UInt8(truncatingIfNeeded: $0 &* (k + 3) >> 2) }, width: 40, height: 30 + k)
        }
        var batch = [Float](repeating: 0, count: 5 * model.embedDim)
        try model.embed(images, into: &batch)
        for (k, image) in images.enumerated() {
            let single = try model.embed(image)
            let worst = zip(batch[(k * model.embedDim)..<((k + 1) * model.embedDim)], single).map { abs($0 - $1) }.max()!
            XCTAssertLessThan(worst, 1e-5, "image \(k): batch vs alone differ by \(worst)")
        }
    }

    func testStatistics() {
        XCTAssertEqual(Statistics.t975(df: 1), 12.706)
        XCTAssertEqual(Statistics.t975(df: 30), 2.042)
        XCTAssertEqual(Statistics.t975(df: 40), 2.0211, accuracy: 2e-4, "t(0.975, 40) from the expansion")
        XCTAssertEqual(Statistics.t975(df: 120), 1.9799, accuracy: 2e-4)
        let ci = Statistics.meanWithCI95([1, 2, 3, 4])
        XCTAssertEqual(ci.mean, 2.5)
        XCTAssertEqual(ci.high - ci.mean, 3.182 * (5.0 / 3).squareRoot() / 2, accuracy: 1e-9)
        XCTAssertTrue(Statistics.meanWithCI95([1]).low.isNaN)
    }
}
