@testable import AVPGANCore
import XCTest

/// The whole enhancer's training forward and backward against PyTorch autograd on upstream's
/// GFPGANv1Clean (Tests/Fixtures/enhancer-training/network-*, made by
/// tools/fixtures/make_enhancer_training_fixtures.py): the image and the gradient of every tensor that
/// reaches it, within 1e-4 of each gradient's largest value; the same bytes at 1 and 3 threads.
final class EnhancerNetworkGradientTests: XCTestCase {
    static let cases = ["net-w-mlp", "net-one-full"]

    override func tearDown() { try? Threads.set(0) }

    func load(_ name: String) throws -> (EnhancerNetwork, Fixtures.Arrays) {
        let enhancer = try Enhancer(path: "\(Fixtures.root)/enhancer-training/enhancer-\(name).safetensors")
        return (enhancer.network, try Fixtures.Arrays("\(Fixtures.root)/enhancer-training/network-\(name).safetensors"))
    }

    /// Forward and backward of one image; the image and the gradients.
    func run(_ net: EnhancerNetwork, _ a: Fixtures.Arrays) throws -> ([Float], [String: FloatStorage]) {
        let w = net.weights
        let noises = ([w.styleConv1] + w.styleConvs).map { UnsafePointer($0.noise.pointer) }
        let x = try a.floats("input"), dy = try a.floats("grad_output"), size = net.config.outSize
        var image = [Float](repeating: .nan, count: 3 * size * size)
        let pass = EnhancerTrainingPass(), gradients = try net.zeroGradients()
        try x.withUnsafeBufferPointer { input in
            try image.withUnsafeMutableBufferPointer { try net.trainingForward(input.baseAddress!, noises: noises, pass: pass, into: $0.baseAddress!) }
        }
        try dy.withUnsafeBufferPointer { try net.trainingBackward(pass, gradOutput: $0.baseAddress!, gradients: gradients) }
        withExtendedLifetime(w) {}
        return (image, gradients)
    }

    func testMatchesUpstreamAutograd() throws {
        for name in Self.cases {
            let (net, a) = try load(name)
            let (image, gradients) = try run(net, a)
            let expected = try a.floats("output")
            let (diff, at) = maxAbsDifference(image, expected)
            XCTAssertLessThanOrEqual(diff, 1e-4 * expected.map(abs).max()!, "\(name) image: max |swift - torch| = \(diff) at \(at)")
            var checked = 0
            for (tensor, _) in EnhancerLayout.tensors(for: net.config) {
                let key = "grad.\(tensor)"
                guard a.file.entry(key) != nil else {
                    let zero = gradients[tensor]!.array.allSatisfy { $0 == 0 }
                    XCTAssertTrue(zero, "\(name): \(tensor) has a gradient here but not in torch")
                    continue
                }
                checked += 1
                let reference = try a.floats(key), ours = gradients[tensor]!.array
                let scale = max(reference.map(abs).max()!, 1e-30)
                let (diff, at) = maxAbsDifference(ours, reference)
                XCTAssertLessThanOrEqual(diff, 1e-4 * scale, "\(name) d(\(tensor)): max |swift - torch| = \(diff) at \(at), scale \(scale)")
            }
            XCTAssertGreaterThan(checked, 100, "\(name): only \(checked) gradients compared")
        }
    }

    func testSameBytesAtAnyThreadCount() throws {
        let (net, a) = try load(Self.cases[0])
        try Threads.set(1)
        let (image1, gradients1) = try run(net, a)
        try Threads.set(3)
        let (image3, gradients3) = try run(net, a)
        XCTAssertEqual(image1.map(\.bitPattern), image3.map(\.bitPattern), "the image differs between 1 and 3 threads")
        for (name, g) in gradients1 {
            XCTAssertEqual(g.array.map(\.bitPattern), gradients3[name]!.array.map(\.bitPattern), "d(\(name)) differs between 1 and 3 threads")
        }
    }
}
