@testable import AVPGANCore
import XCTest

/// basicsr's StyleGAN2Discriminator: forward and every gradient against PyTorch autograd
/// (Tests/Fixtures/enhancer-training/discriminator-*, made by tools/fixtures/make_discriminator_fixtures.py),
/// within 1e-4 of each array's largest value (the s16 case has two standard-deviation sets of 4
/// images, the s64 one widening blocks); the blur's backward checked as its adjoint.
final class DiscriminatorTests: XCTestCase {
    override func tearDown() { try? Threads.set(0) }

    static let cases: [(String, StyleGAN2Discriminator.Config)] = [
        ("discriminator-s64", .init(size: 64, channelMultiplier: 1, narrow: 1.0 / 128)),
        ("discriminator-s16", .init(size: 16, channelMultiplier: 1, narrow: 1.0 / 64)),
    ]

    func load(_ name: String, _ config: StyleGAN2Discriminator.Config) throws -> (StyleGAN2Discriminator, Fixtures.Arrays) {
        let a = try Fixtures.Arrays("\(Fixtures.root)/enhancer-training/\(name).safetensors")
        var values: [String: [Float]] = [:]
        for (param, _) in try StyleGAN2Discriminator.shapes(config) { values[param] = try a.floats(param) }
        return (try StyleGAN2Discriminator(config: config, values: values), a)
    }

    func assertClose(_ actual: [Float], _ expected: [Float], _ what: String) {
        XCTAssertEqual(actual.count, expected.count, "\(what): \(actual.count) values, expected \(expected.count)")
        let scale = max(expected.map(abs).max() ?? 0, 1e-30)
        let (diff, at) = maxAbsDifference(actual, expected)
        XCTAssertLessThanOrEqual(diff, 1e-4 * scale, "\(what): max |swift - torch| = \(diff) at \(at), reference scale \(scale)")
    }

    func testMatchesUpstreamAutograd() throws {
        for (name, config) in Self.cases {
            let (d, a) = try load(name, config)
            XCTAssertEqual(try StyleGAN2Discriminator.shapes(config).map(\.1), try StyleGAN2Discriminator.shapes(config).map { a.shape($0.0) },
                           "\(name): parameter shapes differ from upstream's state_dict")
            let input = try a.floats("input"), n = a.shape("input")[0]
            let pass = DiscriminatorPass()
            let scores = try input.withUnsafeBufferPointer { try d.forward($0.baseAddress!, batch: n, pass: pass) }
            assertClose(scores, try a.floats("output"), "\(name) scores")
            let gradients = try d.zeroGradients()
            var dImages = [Float](repeating: .nan, count: input.count)
            try dImages.withUnsafeMutableBufferPointer {
                try d.backward(pass, gradScores: try a.floats("grad_output"), gradients: gradients, gradImages: $0.baseAddress!)
            }
            assertClose(dImages, try a.floats("grad.input"), "\(name) d(images)")
            for param in d.names { assertClose(gradients[param]!.array, try a.floats("grad.\(param)"), "\(name) d(\(param))") }
        }
    }

    /// The R1 penalty exactly, its parameter gradient (central differences with the LeakyReLU
    /// pattern frozen) against upstream's double backward: the relative error over all
    /// parameters, measured 1.4e-5 (s64) and 2.3e-5 (s16, where the minibatch standard
    /// deviation is not linear), must stay under 1e-4.
    func testR1PenaltyAgainstDoubleBackward() throws {
        for (name, config) in Self.cases {
            let (d, a) = try load(name, config)
            let input = try a.floats("input"), n = a.shape("input")[0], gradients = try d.zeroGradients()
            let penalty = try input.withUnsafeBufferPointer {
                try d.r1Penalty($0.baseAddress!, batch: n, weight: 1, gradients: gradients, pass: DiscriminatorPass())
            }
            let expected = try a.floats("r1.penalty")[0]
            XCTAssertEqual(penalty, expected, accuracy: 1e-4 * expected, "\(name): R1 penalty \(penalty), upstream \(expected)")
            var worst = (0.0, ""), diff = 0.0, norm = 0.0
            for param in d.names {
                let ours = gradients[param]!.array, reference = try a.floats("r1.grad.\(param)")
                let scale = max(Double(reference.map(abs).max()!), 1e-12)
                let (e, _) = maxAbsDifference(ours, reference)
                if Double(e) / scale > worst.0 { worst = (Double(e) / scale, param) }
                for (x, y) in zip(ours, reference) { diff += Double(x - y) * Double(x - y); norm += Double(y) * Double(y) }
            }
            let overall = (diff / max(norm, 1e-30)).squareRoot()
            print("R1 \(name): relative error over all parameters \(overall), worst tensor \(worst.1) \(worst.0)")
            XCTAssertLessThan(overall, 1e-4, "\(name): R1 gradient relative error \(overall) against upstream's double backward")
        }
    }

    /// NCHW `[n, c, plane]` as CNHW `[c, n, plane]`, and back.
    func cnhw(_ a: [Float], n: Int, c: Int, plane: Int, back: Bool = false) -> [Float] {
        var out = a
        for i in 0..<n { for k in 0..<c { for p in 0..<plane {
            if back { out[(i * c + k) * plane + p] = a[(k * n + i) * plane + p] } else { out[(k * n + i) * plane + p] = a[(i * c + k) * plane + p] }
        } } }
        return out
    }

    func testComponentDiscriminatorMatchesUpstream() throws {
        let a = try Fixtures.Arrays("\(Fixtures.root)/enhancer-training/component-s16.safetensors")
        var values: [String: [Float]] = [:]
        for (name, _) in FacialComponentDiscriminator.shapes(widths: (4, 8, 16)) { values[name] = try a.floats(name) }
        let d = try FacialComponentDiscriminator(widths: (4, 8, 16), values: values)
        let input = try a.floats("input"), pass = DiscriminatorPass()
        let record = try input.withUnsafeBufferPointer { try d.forward($0.baseAddress!, batch: 2, side: 16, pass: pass) }
        assertClose(Array(UnsafeBufferPointer(start: record.scores.data, count: 32)), try a.floats("output"), "component scores")
        let (f0, f1) = record.features
        assertClose(cnhw(Array(UnsafeBufferPointer(start: f0.data, count: 8 * 128)), n: 2, c: 8, plane: 64, back: true), try a.floats("feat0"),
                    "component features after conv3")
        assertClose(cnhw(Array(UnsafeBufferPointer(start: f1.data, count: 16 * 32)), n: 2, c: 16, plane: 16, back: true), try a.floats("feat1"),
                    "component features after conv5")
        let g0 = cnhw(try a.floats("grad_feat0"), n: 2, c: 8, plane: 64), g1 = cnhw(try a.floats("grad_feat1"), n: 2, c: 16, plane: 16)
        let gradients = try d.zeroGradients(), scores = try a.floats("grad_output")
        var dCrops = [Float](repeating: .nan, count: input.count)
        try g0.withUnsafeBufferPointer { p0 in
            try g1.withUnsafeBufferPointer { p1 in
                try scores.withUnsafeBufferPointer { s in
                    try dCrops.withUnsafeMutableBufferPointer {
                        try d.backward(record, gradScores: s.baseAddress!, gradFeatures: (p0.baseAddress!, p1.baseAddress!), gradients: gradients,
                                       gradCrops: $0.baseAddress!, pass: pass)
                    }
                }
            }
        }
        assertClose(dCrops, try a.floats("grad.input"), "component d(crops)")
        for name in d.names { assertClose(gradients[name]!.array, try a.floats("grad.\(name)"), "component d(\(name))") }
    }

    func testSameBytesAtAnyThreadCount() throws {
        let (name, config) = Self.cases[0]
        let (d, a) = try load(name, config)
        let input = try a.floats("input"), n = a.shape("input")[0], g = try a.floats("grad_output")
        func run(_ threads: Int) throws -> [[Float]] {
            try Threads.set(threads)
            let pass = DiscriminatorPass(), gradients = try d.zeroGradients()
            let scores = try input.withUnsafeBufferPointer { try d.forward($0.baseAddress!, batch: n, pass: pass) }
            var dImages = [Float](repeating: 0, count: input.count)
            try dImages.withUnsafeMutableBufferPointer { try d.backward(pass, gradScores: g, gradients: gradients, gradImages: $0.baseAddress!) }
            return [scores, dImages] + d.names.map { gradients[$0]!.array }
        }
        let one = try run(1), three = try run(3)
        for (i, (x, y)) in zip(one, three).enumerated() {
            XCTAssertEqual(x.map(\.bitPattern), y.map(\.bitPattern), "output \(i) differs between 1 and 3 threads")
        }
    }

    func testBadConfigurationsAndBatches() throws {
        XCTAssertThrowsError(try StyleGAN2Discriminator.shapes(.init(size: 48)), "a size that is not a power of two")
        XCTAssertThrowsError(try StyleGAN2Discriminator.shapes(.init(size: 64, narrow: 1.0 / 1024)), "zero-width layers")
        let (name, config) = Self.cases[1]
        let (d, _) = try load(name, config)
        var values = [String: [Float]]()
        for p in d.names { values[p] = d.parameters[p]!.array }
        values["final_conv.1.bias"] = [1]
        XCTAssertThrowsError(try StyleGAN2Discriminator(config: config, values: values), "a parameter of the wrong size")
        let images = [Float](repeating: 0, count: 6 * 3 * 16 * 16)
        XCTAssertThrowsError(try images.withUnsafeBufferPointer { try d.forward($0.baseAddress!, batch: 6, pass: DiscriminatorPass()) },
                             "a batch of 6 does not split into groups of 4")
    }

    /// The blur's backward is its adjoint: <blur(x), y> = <x, blurᵀ(y)> for both paddings used.
    func testBlurBackwardIsTheAdjoint() {
        for (side, pad) in [(8, (2, 2)), (8, (1, 1)), (5, (2, 2))] {
            let out = FIRBlur.outputSide(side, pad: pad)
            let x = (0..<(2 * side * side)).map { Float(sin(Double($0) * 0.7)) }, y = (0..<(2 * out * out)).map { Float(cos(Double($0) * 1.3)) }
            var bx = [Float](repeating: 0, count: y.count), ty = [Float](repeating: 0, count: x.count)
            x.withUnsafeBufferPointer { s in bx.withUnsafeMutableBufferPointer { FIRBlur.forward(s.baseAddress!, planes: 2, side: side, pad: pad, into: $0.baseAddress!) } }
            y.withUnsafeBufferPointer { s in ty.withUnsafeMutableBufferPointer { FIRBlur.backward(s.baseAddress!, planes: 2, side: side, pad: pad, into: $0.baseAddress!) } }
            let left = zip(bx, y).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }, right = zip(x, ty).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            XCTAssertEqual(left, right, accuracy: 1e-5 * max(1, abs(left)), "blur side \(side) pad \(pad): <Bx, y> \(left) != <x, Bᵀy> \(right)")
        }
    }
}
