@testable import AVPGANCore
import XCTest

/// Finite-difference checks of the training kernels' backward passes: every op's loss is
/// `Σ output · R` with random R (so every output element matters), its gradient checked by
/// central differences (Float kernels, the perturbation actually applied in Double), relative
/// error `‖num − ana‖ / max(‖num‖, ‖ana‖)` over the checked entries; plus exact checks where
/// closed forms exist.
final class GradientTests: XCTestCase {
    /// Deterministic values in [-1, 1).
    func values(_ n: Int, seed: UInt64) -> [Float] {
        var s = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<n).map { _ in
            s ^= s << 13; s ^= s >> 7; s ^= s << 17
            return Float(s % 2_000_000) / 1_000_000 - 1
        }
    }

    func storage(_ a: [Float]) -> FloatStorage { try! FloatStorage(a) }

    func weighted(_ out: UnsafePointer<Float>, _ r: [Float]) -> Double {
        var s: Double = 0
        for i in r.indices { s += Double(out[i]) * Double(r[i]) }
        return s
    }

    /// Central differences of `loss` at up to `maxChecks` entries of `x` (spread evenly), against
    /// `analytic`; returns the relative error and fails above `tol`.
    @discardableResult
    func check(_ name: String, _ x: [Float], analytic: [Float], h: Float = 1e-2, tol: Double = 1e-2,
               maxChecks: Int = 80, _ loss: ([Float]) -> Double) -> Double {
        XCTAssertEqual(x.count, analytic.count, name)
        let step = max(1, x.count / maxChecks)
        var num: [Double] = [], ana: [Double] = []
        var i = 0
        while i < x.count {
            var xp = x, xm = x
            xp[i] = x[i] + h
            xm[i] = x[i] - h
            let d = Double(xp[i]) - Double(xm[i])
            num.append((loss(xp) - loss(xm)) / d)
            ana.append(Double(analytic[i]))
            i += step
        }
        var diff: Double = 0, nn: Double = 0, na: Double = 0
        for k in num.indices { diff += (num[k] - ana[k]) * (num[k] - ana[k]); nn += num[k] * num[k]; na += ana[k] * ana[k] }
        let err = diff.squareRoot() / max(nn.squareRoot(), na.squareRoot(), 1e-30)
        print("gradcheck \(name): relative error \(err) over \(num.count) entries")
        XCTAssertLessThan(err, tol, name)
        return err
    }

    // MARK: Conv2d / Conv1d

    func convCase(_ label: String, cin: Int, cout: Int, n: Int, h: Int, w: Int, g: ConvGeometry, seed: UInt64) {
        let (oh, ow) = g.convOutput(h: h, w: w)!
        let x = values(cin * n * h * w, seed: seed)
        let wt = values(cout * cin * g.taps, seed: seed + 1)
        let bias = values(cout, seed: seed + 2)
        let r = values(cout * n * oh * ow, seed: seed + 3)
        func run(_ x: [Float], _ wt: [Float], _ bias: [Float]) -> Double {
            let xs = storage(x), ws = storage(wt), bs = storage(bias)
            let conv = Conv2d(weight: ws, inChannels: cin, outChannels: cout, geometry: g)
            let out = try! FloatStorage(count: r.count)
            let cols = try! FloatStorage(count: max(1, conv.scratchCount(batch: n, h: h, w: w)))
            conv.forward(FeatureMap(data: xs.pointer, channels: cin, batch: n, height: h, width: w),
                         into: FeatureMap(data: out.pointer, channels: cout, batch: n, height: oh, width: ow),
                         epilogue: Epilogue(scale: nil, shift: bs, activation: .identity), cols: cols.pointer)
            return weighted(out.pointer, r)
        }
        let xs = storage(x), ws = storage(wt), dy = storage(r)
        let conv = Conv2d(weight: ws, inChannels: cin, outChannels: cout, geometry: g)
        let dx = try! FloatStorage(count: x.count)
        dx.pointer.update(repeating: .nan, count: x.count)  // overwritten
        let dw = storage([Float](repeating: 0.5, count: wt.count))  // accumulates
        let db = storage([Float](repeating: 0.5, count: cout))
        let cols = try! FloatStorage(count: max(1, conv.backwardScratchCount(batch: n, h: h, w: w)))
        conv.backward(input: FeatureMap(data: xs.pointer, channels: cin, batch: n, height: h, width: w),
                      gradOutput: FeatureMap(data: dy.pointer, channels: cout, batch: n, height: oh, width: ow),
                      gradInput: FeatureMap(data: dx.pointer, channels: cin, batch: n, height: h, width: w),
                      gradWeight: dw.pointer, gradBias: db.pointer, cols: cols.pointer)
        check("\(label) dX", x, analytic: dx.array) { run($0, wt, bias) }
        check("\(label) dW", wt, analytic: dw.array.map { $0 - 0.5 }) { run(x, $0, bias) }
        check("\(label) dBias", bias, analytic: db.array.map { $0 - 0.5 }) { run(x, wt, $0) }
    }

    func testConv2dBackward() {
        convCase("conv k3 s2 p1", cin: 3, cout: 4, n: 2, h: 7, w: 6, g: .square(3, stride: 2, padding: 1), seed: 10)
        convCase("conv k4 s2 p1", cin: 3, cout: 5, n: 2, h: 8, w: 8, g: .square(4, stride: 2, padding: 1), seed: 20)
        convCase("conv k4 s1 p0", cin: 4, cout: 3, n: 3, h: 4, w: 4, g: .square(4), seed: 30)
        convCase("conv k1", cin: 3, cout: 4, n: 2, h: 5, w: 5, g: .square(1), seed: 40)
        convCase("conv k7 p3", cin: 2, cout: 1, n: 2, h: 6, w: 5, g: .square(7, padding: 3), seed: 50)
        convCase("conv 2x3 s(1,2) p(0,1)", cin: 2, cout: 3, n: 2, h: 5, w: 7,
                 g: ConvGeometry(kernelH: 2, kernelW: 3, strideH: 1, strideW: 2, padH: 0, padW: 1), seed: 60)
    }

    func testConv1dBackward() {
        convCase("conv1d k3 s2 p1", cin: 4, cout: 5, n: 2, h: 1, w: 13, g: .line(3, stride: 2, padding: 1), seed: 70)
        convCase("conv1d k3 s2 p1 even", cin: 3, cout: 2, n: 3, h: 1, w: 8, g: .line(3, stride: 2, padding: 1), seed: 80)
    }

    // MARK: ConvTranspose2d

    func convTCase(_ label: String, cin: Int, cout: Int, n: Int, h: Int, w: Int, g: ConvGeometry, seed: UInt64) {
        let (oh, ow) = g.transposedOutput(h: h, w: w)!
        let x = values(cin * n * h * w, seed: seed)
        let wt = values(cin * cout * g.taps, seed: seed + 1)
        let bias = values(cout, seed: seed + 2)
        let r = values(cout * n * oh * ow, seed: seed + 3)
        func run(_ x: [Float], _ wt: [Float], _ bias: [Float]) -> Double {
            let xs = storage(x), ws = storage(wt), bs = storage(bias)
            let conv = ConvTranspose2d(weight: ws, inChannels: cin, outChannels: cout, geometry: g)
            let out = try! FloatStorage(count: r.count)
            let cols = try! FloatStorage(count: max(1, conv.scratchCount(batch: n, h: h, w: w)))
            conv.forward(FeatureMap(data: xs.pointer, channels: cin, batch: n, height: h, width: w),
                         into: FeatureMap(data: out.pointer, channels: cout, batch: n, height: oh, width: ow),
                         epilogue: Epilogue(scale: nil, shift: bs, activation: .identity), cols: cols.pointer)
            return weighted(out.pointer, r)
        }
        let xs = storage(x), ws = storage(wt), dy = storage(r)
        let conv = ConvTranspose2d(weight: ws, inChannels: cin, outChannels: cout, geometry: g)
        let dx = try! FloatStorage(count: x.count)
        dx.pointer.update(repeating: .nan, count: x.count)
        let dw = storage([Float](repeating: 0.5, count: wt.count))
        let db = storage([Float](repeating: 0.5, count: cout))
        let cols = try! FloatStorage(count: max(1, conv.backwardScratchCount(batch: n, h: h, w: w)))
        conv.backward(input: FeatureMap(data: xs.pointer, channels: cin, batch: n, height: h, width: w),
                      gradOutput: FeatureMap(data: dy.pointer, channels: cout, batch: n, height: oh, width: ow),
                      gradInput: FeatureMap(data: dx.pointer, channels: cin, batch: n, height: h, width: w),
                      gradWeight: dw.pointer, gradBias: db.pointer, cols: cols.pointer)
        check("\(label) dX", x, analytic: dx.array) { run($0, wt, bias) }
        check("\(label) dW", wt, analytic: dw.array.map { $0 - 0.5 }) { run(x, $0, bias) }
        check("\(label) dBias", bias, analytic: db.array.map { $0 - 0.5 }) { run(x, wt, $0) }
    }

    func testConvTranspose2dBackward() {
        convTCase("convT k4 s1 p0 (1x1 in)", cin: 5, cout: 4, n: 3, h: 1, w: 1, g: .square(4), seed: 110)
        convTCase("convT k4 s2 p1", cin: 3, cout: 4, n: 2, h: 4, w: 3, g: .square(4, stride: 2, padding: 1), seed: 120)
        convTCase("convT k1", cin: 4, cout: 3, n: 2, h: 3, w: 3, g: .square(1), seed: 130)
        convTCase("convT k3 s2 p1", cin: 2, cout: 3, n: 2, h: 3, w: 4, g: .square(3, stride: 2, padding: 1), seed: 140)
    }
}
