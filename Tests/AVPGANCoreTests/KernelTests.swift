@testable import AVPGANCore
import XCTest

/// The GEMM-based kernels against direct loops written from torch's definitions, over
/// geometries the networks do not use too (odd kernels, strides, padding, groups, batches).
final class KernelTests: XCTestCase {
    /// Deterministic values in [-1, 1).
    func values(_ n: Int, seed: UInt64) -> [Float] {
        var s = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<n).map { _ in
            s ^= s << 13; s ^= s >> 7; s ^= s << 17
            return Float(s % 2_000_000) / 1_000_000 - 1
        }
    }

    /// torch.nn.functional.conv2d on NCHW, written as the definition.
    func directConv(_ x: [Float], n: Int, c: Int, h: Int, w: Int, weight: [Float], out o: Int, g: ConvGeometry) -> [Float] {
        let (oh, ow) = g.convOutput(h: h, w: w)!
        let cin = c / g.groups, cout = o / g.groups
        var y = [Float](repeating: 0, count: n * o * oh * ow)
        for b in 0..<n { for co in 0..<o { for i in 0..<oh { for j in 0..<ow {
            var sum: Double = 0
            let group = co / cout
            for ci in 0..<cin { for ki in 0..<g.kernelH { for kj in 0..<g.kernelW {
                let ih = i * g.strideH - g.padH + ki, iw = j * g.strideW - g.padW + kj
                guard ih >= 0, ih < h, iw >= 0, iw < w else { continue }
                sum += Double(x[((b * c + group * cin + ci) * h + ih) * w + iw]) * Double(weight[((co * cin + ci) * g.kernelH + ki) * g.kernelW + kj])
            } } }
            y[((b * o + co) * oh + i) * ow + j] = Float(sum)
        } } } }
        return y
    }

    /// torch.nn.functional.conv_transpose2d on NCHW (groups 1), as the definition.
    func directConvTranspose(_ x: [Float], n: Int, c: Int, h: Int, w: Int, weight: [Float], out o: Int, g: ConvGeometry) -> [Float] {
        let (oh, ow) = g.transposedOutput(h: h, w: w)!
        var y = [Double](repeating: 0, count: n * o * oh * ow)
        for b in 0..<n { for ci in 0..<c { for i in 0..<h { for j in 0..<w {
            let v = Double(x[((b * c + ci) * h + i) * w + j])
            for co in 0..<o { for ki in 0..<g.kernelH { for kj in 0..<g.kernelW {
                let y0 = i * g.strideH - g.padH + ki, x0 = j * g.strideW - g.padW + kj
                guard y0 >= 0, y0 < oh, x0 >= 0, x0 < ow else { continue }
                y[((b * o + co) * oh + y0) * ow + x0] += v * Double(weight[((ci * o + co) * g.kernelH + ki) * g.kernelW + kj])
            } } }
        } } } }
        return y.map(Float.init)
    }

    /// NCHW -> CNHW and back.
    func toCNHW(_ x: [Float], n: Int, c: Int, plane: Int) -> [Float] {
        var y = x
        for b in 0..<n { for ch in 0..<c { for p in 0..<plane { y[(ch * n + b) * plane + p] = x[(b * c + ch) * plane + p] } } }
        return y
    }

    func fromCNHW(_ x: [Float], n: Int, c: Int, plane: Int) -> [Float] {
        var y = x
        for b in 0..<n { for ch in 0..<c { for p in 0..<plane { y[(b * c + ch) * plane + p] = x[(ch * n + b) * plane + p] } } }
        return y
    }

    func testConv2dMatchesDefinition() throws {
        let cases: [(n: Int, c: Int, o: Int, h: Int, w: Int, g: ConvGeometry)] = [
            (2, 3, 5, 7, 9, .square(3, stride: 1, padding: 1)),
            (3, 4, 6, 8, 8, .square(4, stride: 2, padding: 1)),
            (1, 6, 4, 9, 7, ConvGeometry(kernelH: 2, kernelW: 5, strideH: 3, strideW: 2, padH: 1, padW: 2, groups: 2)),
            (2, 8, 8, 6, 6, .square(3, stride: 2, padding: 1, groups: 8)),  // depthwise (DepthwiseConv)
            (3, 5, 5, 11, 13, .square(3, stride: 1, padding: 1, groups: 5)), // depthwise, MobileFaceNet's stride 1
            (2, 4, 4, 9, 7, .square(3, stride: 2, padding: 1, groups: 4)),   // depthwise, odd sizes
            (2, 6, 6, 7, 7, .square(7, groups: 6)),                          // global depthwise 7x7 -> 1x1
            (1, 3, 3, 10, 11, ConvGeometry(kernelH: 2, kernelW: 4, strideH: 3, strideW: 2, padH: 2, padW: 1, groups: 3)),
            (2, 5, 7, 4, 4, .square(1)),                                      // pointwise
            (1, 2, 1, 7, 7, .square(7, padding: 3)),                          // CBAM's spatial conv
            (2, 3, 2, 5, 5, .square(5, stride: 1, padding: 0)),               // output 1x1
        ]
        for (t, k) in cases.enumerated() {
            let x = values(k.n * k.c * k.h * k.w, seed: UInt64(t + 1))
            let weight = values(k.o * k.c / k.g.groups * k.g.taps, seed: UInt64(t + 100))
            let expected = directConv(x, n: k.n, c: k.c, h: k.h, w: k.w, weight: weight, out: k.o, g: k.g)
            let conv = Conv2d(weight: try FloatStorage(weight), inChannels: k.c, outChannels: k.o, geometry: k.g)
            let (oh, ow) = k.g.convOutput(h: k.h, w: k.w)!
            var input = toCNHW(x, n: k.n, c: k.c, plane: k.h * k.w)
            var out = [Float](repeating: .nan, count: expected.count)
            var cols = [Float](repeating: .nan, count: max(conv.scratchCount(batch: k.n, h: k.h, w: k.w), 1))
            input.withUnsafeMutableBufferPointer { xin in
                out.withUnsafeMutableBufferPointer { yout in
                    conv.forward(FeatureMap(data: xin.baseAddress!, channels: k.c, batch: k.n, height: k.h, width: k.w),
                                 into: FeatureMap(data: yout.baseAddress!, channels: k.o, batch: k.n, height: oh, width: ow),
                                 cols: &cols)
                }
            }
            let d = maxAbsDifference(fromCNHW(out, n: k.n, c: k.o, plane: oh * ow), expected)
            XCTAssertLessThan(d.value, 1e-5, "conv2d case \(t) \(k.g): differs by \(d.value) at \(d.index)")
        }
    }

    func testConvTranspose2dMatchesDefinition() throws {
        let cases: [(n: Int, c: Int, o: Int, h: Int, w: Int, g: ConvGeometry)] = [
            (3, 5, 4, 1, 1, .square(4)),                             // the generator's first layer
            (2, 4, 3, 4, 4, .square(4, stride: 2, padding: 1)),      // its upsampling layers
            (2, 3, 2, 5, 3, .square(3, stride: 3, padding: 2)),
            (1, 2, 3, 3, 4, ConvGeometry(kernelH: 2, kernelW: 5, strideH: 2, strideW: 1, padH: 0, padW: 1)),
            (2, 6, 3, 4, 4, .square(1)),                             // its last layer
            // Enough 2x2 tiles for the sub-pixel Winograd way, with eight-wide and scalar tails.
            (4, 6, 5, 8, 20, .square(4, stride: 2, padding: 1)),
            (4, 5, 7, 12, 6, .square(4, stride: 2, padding: 1)),
        ]
        for (t, k) in cases.enumerated() {
            let x = values(k.n * k.c * k.h * k.w, seed: UInt64(t + 7))
            let weight = values(k.c * k.o * k.g.taps, seed: UInt64(t + 70))
            let bias = values(k.o, seed: UInt64(t + 700))
            var expected = directConvTranspose(x, n: k.n, c: k.c, h: k.h, w: k.w, weight: weight, out: k.o, g: k.g)
            let (oh, ow) = k.g.transposedOutput(h: k.h, w: k.w)!
            for i in expected.indices { expected[i] = max(expected[i] + bias[(i / (oh * ow)) % k.o], 0) }
            let plain = ConvTranspose2d(weight: try FloatStorage(weight), inChannels: k.c, outChannels: k.o, geometry: k.g)
            let packed = ConvTranspose2d(weight: try FloatStorage(weight), inChannels: k.c, outChannels: k.o, geometry: k.g, subPixel: true)
            let tiles = k.n * (k.h / 2) * (k.w / 2)
            let subPixel = SubPixelWinograd.handles(k.g) && tiles >= ConvTranspose2d.subPixelMinimumTiles
            XCTAssertEqual(packed.usesSubPixel(batch: k.n, h: k.h, w: k.w), subPixel, "case \(t): sub-pixel way chosen for \(tiles) tiles")
            for conv in subPixel ? [plain, packed] : [plain] {
                let way = conv.hasSubPixel ? "sub-pixel Winograd" : "col2im"
                var input = toCNHW(x, n: k.n, c: k.c, plane: k.h * k.w)
                var out = [Float](repeating: .nan, count: expected.count)
                var cols = [Float](repeating: .nan, count: max(conv.scratchCount(batch: k.n, h: k.h, w: k.w), 1))
                let epilogue = Epilogue(scale: nil, shift: try FloatStorage(bias), activation: .relu)
                input.withUnsafeMutableBufferPointer { xin in
                    out.withUnsafeMutableBufferPointer { yout in
                        conv.forward(FeatureMap(data: xin.baseAddress!, channels: k.c, batch: k.n, height: k.h, width: k.w),
                                     into: FeatureMap(data: yout.baseAddress!, channels: k.o, batch: k.n, height: oh, width: ow),
                                     epilogue: epilogue, cols: &cols)
                    }
                }
                let d = maxAbsDifference(fromCNHW(out, n: k.n, c: k.o, plane: oh * ow), expected)
                XCTAssertLessThan(d.value, 1e-5, "conv_transpose2d case \(t) \(k.g) by \(way): differs by \(d.value) at \(d.index)")
            }
        }
    }

    func testActivationsAndEpilogue() throws {
        XCTAssertEqual(Activation.relu6(7.5), 6)
        XCTAssertEqual(Activation.relu6(-1), 0)
        XCTAssertEqual(Activation.leakyReLU(slope: 0.2)(-2), -0.4, accuracy: 1e-7)
        XCTAssertEqual(Activation.sigmoid(0), 0.5)
        XCTAssertEqual(Activation.sigmoid(-100), 0, accuracy: 1e-30)
        // BatchNorm folded: (x - mean) / sqrt(var + eps) * gamma + beta.
        let (scale, shift) = try BatchNorm.fold(gamma: [2], beta: [0.5], mean: [1], variance: [3], eps: 1)
        var y: [Float] = [5, -3]
        Epilogue(scale: scale, shift: shift, activation: .identity).apply(channel: 0, &y, count: 2)
        XCTAssertEqual(y[0], (5 - 1) / 2 * 2 + 0.5, accuracy: 1e-6)
        XCTAssertEqual(y[1], (-3 - 1) / 2 * 2 + 0.5, accuracy: 1e-6)
    }

    func testPReLUEpilogue() throws {
        // PReLU after a folded BatchNorm: v = x * s + b; v > 0 ? v : v * slope[c].
        var y: [Float] = [2, -2, 0.5, -4]
        Epilogue(scale: try FloatStorage([2, 1]), shift: try FloatStorage([0, 1]), activation: .identity,
                 slopes: try FloatStorage([0.25, 0.5])).apply(to: FeatureMap(data: &y, channels: 2, batch: 1, height: 1, width: 2))
        XCTAssertEqual(y, [4, -1, 1.5, -1.5], "PReLU epilogue: channel 0 scale 2 slope 0.25, channel 1 shift 1 slope 0.5")
    }

    func testLinearAndReductions() throws {
        let linear = Linear(weight: try FloatStorage([1, 2, 3, 4, 5, 6]), bias: try FloatStorage([0.5, -1]), inFeatures: 3, outFeatures: 2)
        var y = [Float](repeating: 0, count: 4)
        linear.forward([1, 0, -1, 2, 1, 0], batch: 2, into: &y)
        let expectedY: [Float] = [-1.5, -3, 4.5, 12]
        XCTAssertEqual(y, expectedY)
        var mean = [Float](repeating: 0, count: 2)
        Reductions.timeMean([1, 2, 3, 10, 20, 30], channels: 2, length: 3, into: &mean)
        XCTAssertEqual(mean, [2, 20])
        var v: [Float] = [3, 4]
        Reductions.l2Normalize(&v, count: 2)
        XCTAssertEqual(v, [0.6, 0.8])
        var zero: [Float] = [0, 0]
        Reductions.l2Normalize(&zero, count: 2)
        XCTAssertEqual(zero, [0, 0], "F.normalize of a zero vector is zero (eps 1e-12), not NaN")
    }

    func testSpectralNormTransposedLayout() throws {
        // weight [in 2, out 3, 1, 1], dim 1: W = weightᵀ as [3, 2]; σ = u·(W v).
        let weight: [Float] = [1, 2, 3, 4, 5, 6]
        let u: [Float] = [1, 0, 1], v: [Float] = [1, 2]
        // W = [[1,4],[2,5],[3,6]]; W v = [9, 12, 15]; σ = 24.
        let w = try SpectralNorm.effectiveWeight(weight, shape: [2, 3, 1, 1], dim: 1, u: u, v: v, name: "t")
        XCTAssertEqual(w, weight.map { $0 / 24 })
        XCTAssertThrowsError(try SpectralNorm.effectiveWeight(weight, shape: [2, 3, 1, 1], dim: 1, u: [0, 0, 0], v: v, name: "t"),
                             "σ = 0 must be a format error, not a division by zero")
    }
}
