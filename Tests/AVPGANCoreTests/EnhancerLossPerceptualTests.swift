@testable import AVPGANCore
import XCTest

/// The perceptual and Gram style losses on VGG-19 features against basicsr's PerceptualLoss by
/// PyTorch autograd, at widths / 32 with random weights (Tests/Fixtures/enhancer-losses, made by
/// tools/fixtures/make_enhancer_loss_fixtures.py; the network file by tools/converters/convert_vgg.py's converter).
final class EnhancerLossPerceptualTests: XCTestCase {
    static let vggPath = "\(Fixtures.root)/enhancer-losses/vgg19-w32.safetensors"

    func loss() throws -> PerceptualLoss {
        try PerceptualLoss(network: try VGG19Features(path: Self.vggPath))
    }

    /// An NCHW `[n, c, h, w]` array as CNHW.
    func cnhw(_ a: [Float], _ shape: [Int]) -> [Float] {
        let (n, c, plane) = (shape[0], shape[1], shape[2] * shape[3])
        var out = [Float](repeating: 0, count: a.count)
        for i in 0..<n { for j in 0..<c { for p in 0..<plane { out[(j * n + i) * plane + p] = a[(i * c + j) * plane + p] } } }
        return out
    }

    func testConvertedNetworkLoadsWithItsWidths() throws {
        let vgg = try VGG19Features(path: Self.vggPath)
        XCTAssertEqual(vgg.widths, [2, 4, 8, 16, 16])
        XCTAssertEqual(VGG19Features.featureIndices.last, 34)
        XCTAssertEqual(VGG19Features.convIndex(named: "conv3_4"), 7)
        XCTAssertNil(VGG19Features.convIndex(named: "conv2_3"))
    }

    func testFeaturesMatchTorchBeforeTheReLU() throws {
        let a = try EnhancerLossTests.fixture("perceptual")
        let shape = a.shape("x"), x = try a.floats("x")
        let l = try loss(), tape = VGG19Features.Tape()
        try l.network.forward(x, batch: shape[0], height: shape[2], width: shape[3], depth: 16, tape: tape)
        for (name, _) in PerceptualLoss.gfpganLayers {
            let map = tape.features(VGG19Features.convIndex(named: name)!)
            let got = Array(UnsafeBufferPointer(start: map.data, count: map.channels * map.row))
            EnhancerLossTests.assertClose(got, cnhw(try a.floats("feature.\(name)"), a.shape("feature.\(name)")), name)
        }
    }

    func testPerceptualAndStyleLossesAndGradientsMatchTorch() throws {
        let a = try EnhancerLossTests.fixture("perceptual")
        let shape = a.shape("x"), x = try a.floats("x"), gt = try a.floats("gt")
        let l = try loss(), scratch = PerceptualLoss.Scratch()
        for (term, pw, sw) in [("perceptual", Float(1), Float(0)), ("style", 0, 50)] {
            var grad = [Float](repeating: .nan, count: x.count)
            let r = try l.evaluate(output: x, truth: gt, batch: shape[0], height: shape[2], width: shape[3],
                                   perceptualWeight: pw, styleWeight: sw, gradOutput: &grad, scratch: scratch)
            EnhancerLossTests.assertClose([term == "perceptual" ? r.perceptual : r.style], try a.floats(term), term)
            XCTAssertEqual(term == "perceptual" ? r.style : r.perceptual, 0, "the term with weight 0 is not computed")
            EnhancerLossTests.assertClose(grad, try a.floats("grad.\(term)"), "d\(term)/dx")
        }
        // Both at once: the gradients add, and the result does not depend on the thread count.
        let saved = Threads.count
        defer { try? Threads.set(saved) }
        var grads: [[Float]] = []
        for threads in [1, 2] {
            try Threads.set(threads)
            var grad = [Float](repeating: .nan, count: x.count)
            let r = try l.evaluate(output: x, truth: gt, batch: shape[0], height: shape[2], width: shape[3],
                                   perceptualWeight: 1, styleWeight: 50, gradOutput: &grad, scratch: scratch)
            EnhancerLossTests.assertClose([r.perceptual, r.style], try a.floats("perceptual") + a.floats("style"), "both terms")
            grads.append(grad)
        }
        XCTAssertEqual(grads[0], grads[1])
        let sum = zip(try a.floats("grad.perceptual"), try a.floats("grad.style")).map { $0 + $1 }
        EnhancerLossTests.assertClose(grads[0], sum, "d(perceptual + style)/dx")
    }

    func testGramStyleGradientMatchesFiniteDifferences() throws {
        // Two images of 3 channels, 2x3 positions, in a CNHW map; the loss's central difference
        // in Double against the analytic gradient at a few entries.
        let c = 3, n = 2, h = 2, w = 3, count = c * n * h * w
        var x = (0..<count).map { Float(sin(Double($0) * 1.3)) }, y = (0..<count).map { Float(cos(Double($0) * 0.7)) }
        var grad = [Float](repeating: 0, count: count)
        var scratch = [Float](repeating: 0, count: 3 * n * c * c)
        func map(_ p: UnsafeMutablePointer<Float>) -> FeatureMap { FeatureMap(data: p, channels: c, batch: n, height: h, width: w) }
        func value() -> Float {
            x.withUnsafeMutableBufferPointer { xp in y.withUnsafeMutableBufferPointer { yp in
                GramStyleLoss.evaluate(map(xp.baseAddress!), target: map(yp.baseAddress!), weight: 2, gradX: nil, scratch: &scratch)
            } }
        }
        x.withUnsafeMutableBufferPointer { xp in y.withUnsafeMutableBufferPointer { yp in grad.withUnsafeMutableBufferPointer { gp in
            _ = GramStyleLoss.evaluate(map(xp.baseAddress!), target: map(yp.baseAddress!), weight: 2, gradX: map(gp.baseAddress!),
                                       scratch: &scratch)
        } } }
        for i in [0, 5, 13, 22] {
            let saved = x[i], step: Float = 1e-3
            x[i] = saved + step; let up = value()
            x[i] = saved - step; let down = value()
            x[i] = saved
            XCTAssertEqual(grad[i], (up - down) / (2 * step), accuracy: 2e-3, "entry \(i)")
        }
    }

    func testBadNetworkFilesAreRefusedWithTheCause() throws {
        let good = try Fixtures.bytes(Self.vggPath)
        let file = try Safetensors(bytes: good)
        func rewrite(metadata: [String: String]? = nil, drop: String? = nil, replace: (String, [Float], [Int])? = nil) throws -> [UInt8] {
            var tensors: [SafetensorsWriter.Tensor] = []
            for e in file.entries where e.name != drop {
                if let r = replace, r.0 == e.name {
                    tensors.append(.init(name: r.0, shape: r.2, floats: r.1))
                } else {
                    tensors.append(.init(name: e.name, shape: e.shape, floats: try file.floats(e)))
                }
            }
            return SafetensorsWriter.serialize(tensors, metadata: metadata ?? file.metadata)
        }
        let w2 = file.entry("features.2.weight")!
        let cases: [(String, [UInt8])] = [
            ("no avpgan.arch", try rewrite(metadata: [:])),
            ("a face-recognition model", try rewrite(metadata: ["avpgan.arch": "mobilefacenet"])),
            ("features.34.bias is missing", try rewrite(drop: "features.34.bias")),
            ("features.2.weight has shape", try rewrite(replace: ("features.2.weight", [Float](repeating: 0, count: 2 * 3 * 9), [2, 3, 3, 3]))),
            ("non-finite", try rewrite(replace: ("features.2.weight", [Float](repeating: .nan, count: w2.elementCount), w2.shape))),
        ]
        for (needle, bytes) in cases {
            XCTAssertThrowsError(try VGG19Features(bytes: bytes), needle) { error in
                XCTAssertTrue("\(error)".contains(needle), "expected '\(needle)' in: \(error)")
            }
        }
        XCTAssertThrowsError(try PerceptualLoss(network: try VGG19Features(bytes: good), layers: [("relu1_1", 1)]))
    }

    func testZeroToOneInputIsTheSameNetworkOnRescaledImages() throws {
        // Features of x in [-1, 1] with range_norm equal those of (x + 1) / 2 read as [0, 1];
        // the image gradient of the [0, 1] reading is twice the [-1, 1] one.
        let a = try EnhancerLossTests.fixture("perceptual")
        let x = try a.floats("x"), gt = try a.floats("gt"), shape = a.shape("x")
        let bytes = try Fixtures.bytes(Self.vggPath)
        let signed = try PerceptualLoss(network: try VGG19Features(bytes: bytes, inputRange: .minusOneToOne))
        let unit = try PerceptualLoss(network: try VGG19Features(bytes: bytes, inputRange: .zeroToOne))
        var g1 = [Float](repeating: .nan, count: x.count), g2 = g1
        let r1 = try signed.evaluate(output: x, truth: gt, batch: shape[0], height: shape[2], width: shape[3],
                                     perceptualWeight: 1, styleWeight: 0, gradOutput: &g1, scratch: .init())
        let r2 = try unit.evaluate(output: x.map { ($0 + 1) / 2 }, truth: gt.map { ($0 + 1) / 2 }, batch: shape[0], height: shape[2],
                                   width: shape[3], perceptualWeight: 1, styleWeight: 0, gradOutput: &g2, scratch: .init())
        EnhancerLossTests.assertClose([r2.perceptual], [r1.perceptual], "the loss")
        EnhancerLossTests.assertClose(g2, g1.map { 2 * $0 }, "the gradient")
    }
}
