@testable import AVPGANCore
import XCTest

/// `EnhancerImageLosses`: the weighted image-space terms together equal each term alone (each
/// checked against PyTorch in its own suite), and a term of weight 0 is neither computed nor
/// needs its network.
final class EnhancerLossCombinedTests: XCTestCase {
    func testTermsAddUpAndZeroWeightsNeedNoNetwork() throws {
        let a = try EnhancerLossTests.fixture("perceptual")
        let x = try a.floats("x"), gt = try a.floats("gt"), batch = a.shape("x")[0], size = a.shape("x")[2]
        let vgg = try VGG19Features(path: EnhancerLossPerceptualTests.vggPath)
        let file = try Safetensors(bytes: try Fixtures.bytes("\(Fixtures.root)/enhancer-losses/face-mobile.safetensors"))
        let face = try FaceNetwork(file: file, config: FaceModelConfig(arch: .mobileFaceNet, inputSize: 16, embedDim: 6, inputStd: 128),
                                   specs: FaceNetworkBackwardTests.mobile)
        let weights = EnhancerLossWeights.gfpganV1
        let all = try EnhancerImageLosses(weights: weights, perceptualNetwork: vgg, faceNetwork: face)
        var total = [Float](repeating: .nan, count: x.count)
        let values = try all.evaluate(output: x, truth: gt, batch: batch, size: size, gradOutput: &total)
        XCTAssertEqual(Set(values.keys), Set(EnhancerImageLosses.terms))
        EnhancerLossTests.assertClose([values[.perceptual]!, values[.perceptualStyle]!],
                                      try a.floats("perceptual") + a.floats("style"), "perceptual and style through the weights")

        // Each term alone (the others at 0, so their networks are not needed) gives the same
        // value, and the gradients add up to the total.
        var sum = [Float](repeating: 0, count: x.count)
        for term in EnhancerImageLosses.terms {
            var w = EnhancerLossWeights()
            for t in EnhancerLossWeights.Term.allCases { w[t] = 0 }
            w[term] = weights[term]
            let needsVGG = term == .perceptual || term == .perceptualStyle
            let one = try EnhancerImageLosses(weights: w, perceptualNetwork: needsVGG ? vgg : nil,
                                              faceNetwork: term == .identity ? face : nil)
            var grad = [Float](repeating: .nan, count: x.count)
            let v = try one.evaluate(output: x, truth: gt, batch: batch, size: size, gradOutput: &grad)
            XCTAssertEqual(Array(v.keys), [term])
            XCTAssertEqual(v[term], values[term], "\(term)")
            for i in sum.indices { sum[i] += grad[i] }
        }
        EnhancerLossTests.assertClose(total, sum, "the total gradient")

        XCTAssertThrowsError(try EnhancerImageLosses(weights: EnhancerLossWeights(), perceptualNetwork: nil, faceNetwork: face)) {
            XCTAssertTrue("\($0)".contains("no VGG-19 network"), "\($0)")
        }
        XCTAssertThrowsError(try EnhancerImageLosses(weights: EnhancerLossWeights(), perceptualNetwork: vgg, faceNetwork: nil)) {
            XCTAssertTrue("\($0)".contains("no face-recognition model"), "\($0)")
        }
    }
}
