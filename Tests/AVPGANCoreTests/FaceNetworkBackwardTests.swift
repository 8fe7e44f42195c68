@testable import AVPGANCore
import XCTest

/// The face-recognition network's backward to its input, and GFPGAN's identity loss through it,
/// against PyTorch autograd on narrow networks with every layer kind of MobileFaceNet and
/// IResNet (Tests/Fixtures/enhancer-losses, tools/fixtures/make_enhancer_loss_fixtures.py, whose MOBILE
/// and IRESNET lists these specs mirror).
final class FaceNetworkBackwardTests: XCTestCase {
    static let mobile: [FaceLayerSpec] = [
        .conv(name: "conv1.0", inChannels: 3, outChannels: 8, geometry: .square(3, stride: 2, padding: 1), bias: false, bn: "conv1.1", activation: .relu6),
        .conv(name: "dw.depthwise", inChannels: 8, outChannels: 8, geometry: .square(3, padding: 1, groups: 8), bias: false, bn: "dw.bn1", activation: .relu),
        .residual(body: [
            .conv(name: "f.0", inChannels: 8, outChannels: 16, geometry: .square(1), bias: false, bn: "f.0bn", activation: .relu6),
            .conv(name: "f.1", inChannels: 16, outChannels: 16, geometry: .square(3, padding: 1, groups: 16), bias: false, bn: "f.1bn", activation: .relu6),
            .conv(name: "f.2", inChannels: 16, outChannels: 8, geometry: .square(1), bias: false, bn: "f.3", activation: .none),
        ], shortcut: nil),
        .conv(name: "conv2.0", inChannels: 8, outChannels: 16, geometry: .square(1), bias: false, bn: "conv2.1", activation: .relu6),
        .conv(name: "gdconv.depthwise", inChannels: 16, outChannels: 16, geometry: .square(8, groups: 16), bias: false, bn: "gdconv.bn", activation: .none),
        .conv(name: "conv3", inChannels: 16, outChannels: 6, geometry: .square(1), bias: true, bn: "bn", activation: .none),
    ]

    static let iresnet: [FaceLayerSpec] = [
        .conv(name: "conv1", inChannels: 3, outChannels: 4, geometry: .square(3, padding: 1), bias: false, bn: "bn1", activation: .prelu("prelu")),
        .residual(body: [
            .batchNorm(name: "layer1.0.bn1", channels: 4),
            .conv(name: "layer1.0.conv1", inChannels: 4, outChannels: 6, geometry: .square(3, padding: 1), bias: false, bn: "layer1.0.bn2",
                  activation: .prelu("layer1.0.prelu")),
            .conv(name: "layer1.0.conv2", inChannels: 6, outChannels: 6, geometry: .square(3, stride: 2, padding: 1), bias: false,
                  bn: "layer1.0.bn3", activation: .none),
        ], shortcut: .conv(name: "layer1.0.downsample.0", inChannels: 4, outChannels: 6, geometry: .square(1, stride: 2), bias: false,
                           bn: "layer1.0.downsample.1", activation: .none)),
        .residual(body: [
            .batchNorm(name: "layer1.1.bn1", channels: 6),
            .conv(name: "layer1.1.conv1", inChannels: 6, outChannels: 6, geometry: .square(3, padding: 1), bias: false, bn: "layer1.1.bn2",
                  activation: .prelu("layer1.1.prelu")),
            .conv(name: "layer1.1.conv2", inChannels: 6, outChannels: 6, geometry: .square(3, padding: 1), bias: false, bn: "layer1.1.bn3",
                  activation: .none),
        ], shortcut: nil),
        .batchNorm(name: "bn2", channels: 6),
        .linear(name: "fc", inFeatures: 6 * 8 * 8, outFeatures: 6, bn: "features"),
    ]

    func network(_ name: String, _ specs: [FaceLayerSpec], arch: FaceArchitecture) throws -> FaceNetwork {
        let file = try Safetensors(bytes: try Fixtures.bytes("\(Fixtures.root)/enhancer-losses/face-\(name).safetensors"))
        let config = FaceModelConfig(arch: arch, inputSize: 16, embedDim: 6, inputMean: 127.5, inputStd: 128, batchNorm: .stored)
        return try FaceNetwork(file: file, config: config, specs: specs)
    }

    func check(_ name: String, _ specs: [FaceLayerSpec], arch: FaceArchitecture) throws {
        let a = try EnhancerLossTests.fixture("identity-\(name)")
        let loss = IdentityLoss(network: try network(name, specs, arch: arch))
        let output = try a.floats("output"), truth = try a.floats("truth"), shape = a.shape("output")
        let saved = Threads.count
        defer { try? Threads.set(saved) }
        var grads: [[Float]] = []
        for threads in [1, 2] {
            try Threads.set(threads)
            let scratch = IdentityLoss.Scratch()
            var grad = [Float](repeating: .nan, count: output.count)
            let value = try loss.evaluate(output: output, truth: truth, batch: shape[0], size: shape[2], weight: 10,
                                          gradOutput: &grad, scratch: scratch)
            EnhancerLossTests.assertClose([value], try a.floats("loss"), "\(name) identity loss")
            // The output's embedding, [E, n] on the tape, against torch's [n, E].
            let e = loss.network.config.embedDim, n = shape[0]
            let map = try loss.network.trainingForward(
                FeatureMap(data: try scratch.workspace.slot(1, count: 0), channels: 3, batch: n, height: 16, width: 16), tape: scratch.output)
            let embedding = (0..<(n * e)).map { map.channel($0 % e)[$0 / e] }
            EnhancerLossTests.assertClose(embedding, try a.floats("embedding"), "\(name) embedding")
            EnhancerLossTests.assertClose(grad, try a.floats("grad.output"), "\(name) d(identity)/d(output)")
            grads.append(grad)
        }
        XCTAssertEqual(grads[0], grads[1], "the gradient does not depend on the thread count")
    }

    func testMobileFaceNetLayersBackwardMatchesTorch() throws {
        try check("mobile", Self.mobile, arch: .mobileFaceNet)
    }

    func testIResNetLayersBackwardMatchesTorch() throws {
        try check("iresnet", Self.iresnet, arch: .iresnet18)
    }

    func testBGRNetworkSeesTheSwappedPlanes() throws {
        // A BGR network on RGB images equals the RGB network on the images with R and B swapped,
        // and so does its gradient (swapped back).
        let a = try EnhancerLossTests.fixture("identity-mobile")
        let output = try a.floats("output"), truth = try a.floats("truth"), shape = a.shape("output")
        let file = try Safetensors(bytes: try Fixtures.bytes("\(Fixtures.root)/enhancer-losses/face-mobile.safetensors"))
        func loss(bgr: Bool) throws -> IdentityLoss {
            let config = FaceModelConfig(arch: .mobileFaceNet, inputSize: 16, embedDim: 6, inputStd: 128, bgr: bgr)
            return IdentityLoss(network: try FaceNetwork(file: file, config: config, specs: Self.mobile))
        }
        let plane = shape[2] * shape[3]
        func swapped(_ x: [Float]) -> [Float] {
            var y = x
            for n in 0..<shape[0] {
                for i in 0..<plane { (y[(n * 3) * plane + i], y[(n * 3 + 2) * plane + i]) = (x[(n * 3 + 2) * plane + i], x[(n * 3) * plane + i]) }
            }
            return y
        }
        var gradBGR = [Float](repeating: .nan, count: output.count), gradRGB = gradBGR
        let bgr = try loss(bgr: true).evaluate(output: output, truth: truth, batch: shape[0], size: shape[2], weight: 10,
                                                gradOutput: &gradBGR, scratch: IdentityLoss.Scratch())
        let rgb = try loss(bgr: false).evaluate(output: swapped(output), truth: swapped(truth), batch: shape[0], size: shape[2],
                                                 weight: 10, gradOutput: &gradRGB, scratch: IdentityLoss.Scratch())
        XCTAssertEqual(bgr, rgb)
        XCTAssertEqual(gradBGR, swapped(gradRGB))
        XCTAssertNotEqual(bgr, try a.floats("loss")[0], "the swap changes the loss, so the check above means something")
    }
}
