@testable import AVPGANCore
import XCTest
#if canImport(Glibc)
import Glibc
#endif
/// Gradients of CBAM (against a Double forward from the reference's definition, and at ties of
/// its max pools) and of composed layers, the discriminator's chain (GradientChecking; the
/// layers' and losses' own checks are LayerGradientTests and LossAndAdamTests).
final class GradientTests: XCTestCase, GradientChecking {

    // MARK: CBAM

    /// CBAM forward in Double, from the reference's definition, on CNHW; `offset` 1 is the
    /// residual gate `x (1 + M)` (tools/fixtures/reference_recipes.py).
    func cbamReference(_ x: [Float], c: Int, hid: Int, n: Int, h: Int, w: Int, k: Int,
                       reduce: [Float], expand: [Float], spatial: [Float], offset: Double = 0) -> [Double] {
        let plane = h * w
        func sig(_ v: Double) -> Double { offset + 1 / (1 + exp(-v)) }
        var y = [Double](repeating: 0, count: x.count)
        for b in 0..<n {
            var avg = [Double](repeating: 0, count: c), mx = [Double](repeating: -.infinity, count: c)
            for ch in 0..<c { for i in 0..<plane {
                let v = Double(x[(ch * n + b) * plane + i]); avg[ch] += v / Double(plane); mx[ch] = max(mx[ch], v)
            } }
            func mlp(_ p: [Double]) -> [Double] {
                let hidden = (0..<hid).map { j in max(0, (0..<c).reduce(0.0) { $0 + Double(reduce[j * c + $1]) * p[$1] }) }
                return (0..<c).map { ch in (0..<hid).reduce(0.0) { $0 + Double(expand[ch * hid + $1]) * hidden[$1] } }
            }
            let ma = mlp(avg), mm = mlp(mx)
            let gate = (0..<c).map { sig(ma[$0] + mm[$0]) }
            var x1 = [Double](repeating: 0, count: c * plane)
            for ch in 0..<c { for i in 0..<plane { x1[ch * plane + i] = Double(x[(ch * n + b) * plane + i]) * gate[ch] } }
            var pooled = [Double](repeating: 0, count: 2 * plane)
            for i in 0..<plane {
                var s = 0.0, m = -Double.infinity
                for ch in 0..<c { s += x1[ch * plane + i]; m = max(m, x1[ch * plane + i]) }
                pooled[i] = s / Double(c); pooled[plane + i] = m
            }
            let pad = k / 2
            for i in 0..<h { for j in 0..<w {
                var z = 0.0
                for ci in 0..<2 { for ki in 0..<k { for kj in 0..<k {
                    let ii = i - pad + ki, jj = j - pad + kj
                    guard ii >= 0, ii < h, jj >= 0, jj < w else { continue }
                    z += Double(spatial[(ci * k + ki) * k + kj]) * pooled[ci * plane + ii * w + jj]
                } } }
                let sg = sig(z)
                for ch in 0..<c { y[(ch * n + b) * plane + i * w + j] = x1[ch * plane + i * w + j] * sg }
            } }
        }
        return y
    }

    func cbamCase(c: Int, hid: Int, n: Int, h: Int, w: Int, k: Int, seed: UInt64, gate: CBAMGate = .sigmoid) throws {
        let x = values(c * n * h * w, seed: seed).map { $0 * 2 }
        let reduce = values(hid * c, seed: seed + 1), expand = values(c * hid, seed: seed + 2)
        let spatialW = values(2 * k * k, seed: seed + 3).map { $0 * 0.5 }
        let r = values(x.count, seed: seed + 4)
        func make(_ reduce: [Float], _ expand: [Float], _ spatialW: [Float]) -> CBAM {
            CBAM(channels: c, hidden: hid, reduce: storage(reduce), expand: storage(expand),
                 spatial: Conv2d(weight: storage(spatialW), inChannels: 2, outChannels: 1, geometry: .square(k, padding: k / 2)),
                 gate: gate)
        }
        let cbam = make(reduce, expand, spatialW)
        let tape = CBAMTraining(cbam)
        let xs = storage(x), out = try FloatStorage(count: x.count)
        let xmap = FeatureMap(data: xs.pointer, channels: c, batch: n, height: h, width: w)
        try tape.forward(xmap, into: FeatureMap(data: out.pointer, channels: c, batch: n, height: h, width: w))
        // Forward: against the Double reference and the inference kernel.
        let offset = Double(gate.offset)
        let ref = cbamReference(x, c: c, hid: hid, n: n, h: h, w: w, k: k, reduce: reduce, expand: expand, spatial: spatialW,
                                offset: offset)
        let inference = storage(x)
        let scratch = try FloatStorage(count: cbam.scratchCount(batch: n, h: h, w: w))
        cbam.apply(FeatureMap(data: inference.pointer, channels: c, batch: n, height: h, width: w), scratch: scratch.pointer)
        for i in 0..<x.count {
            XCTAssertEqual(Double(out.pointer[i]), ref[i], accuracy: 1e-5)
            XCTAssertEqual(out.pointer[i], inference.pointer[i], accuracy: 1e-5)
        }
        let dy = storage(r), dx = try FloatStorage(count: x.count)
        dx.pointer.update(repeating: .nan, count: x.count)
        let gr = try FloatStorage(count: reduce.count), ge = try FloatStorage(count: expand.count), gs = try FloatStorage(count: spatialW.count)
        try tape.backward(input: xmap, gradOutput: FeatureMap(data: dy.pointer, channels: c, batch: n, height: h, width: w),
                          gradInput: FeatureMap(data: dx.pointer, channels: c, batch: n, height: h, width: w),
                          gradReduce: gr.pointer, gradExpand: ge.pointer, gradSpatial: gs.pointer)
        withExtendedLifetime((xs, dy)) {}
        func loss(_ x: [Float], _ reduce: [Float], _ expand: [Float], _ spatialW: [Float]) -> Double {
            let y = cbamReference(x, c: c, hid: hid, n: n, h: h, w: w, k: k, reduce: reduce, expand: expand, spatial: spatialW,
                                  offset: offset)
            return zip(y, r).reduce(0) { $0 + $1.0 * Double($1.1) }
        }
        let label = "cbam (\(gate.rawValue) gate) C\(c) hid\(hid) N\(n) \(h)x\(w) k\(k)"
        check("\(label) dX", x, analytic: dx.array, h: 1e-3, maxChecks: 200) { loss($0, reduce, expand, spatialW) }
        check("\(label) dReduce", reduce, analytic: gr.array, h: 1e-3) { loss(x, $0, expand, spatialW) }
        check("\(label) dExpand", expand, analytic: ge.array, h: 1e-3) { loss(x, reduce, $0, spatialW) }
        check("\(label) dSpatial", spatialW, analytic: gs.array, h: 1e-3) { loss(x, reduce, expand, $0) }
    }

    func testCBAMBackward() throws {
        try cbamCase(c: 6, hid: 2, n: 2, h: 5, w: 4, k: 7, seed: 1000)
        try cbamCase(c: 4, hid: 1, n: 3, h: 4, w: 4, k: 3, seed: 1010)
        try cbamCase(c: 17, hid: 1, n: 1, h: 3, w: 5, k: 7, seed: 1020)
    }

    /// The residual gate `x (1 + M)`: forward against the Double reference, backward against
    /// finite differences.
    func testResidualCBAMBackward() throws {
        try cbamCase(c: 6, hid: 2, n: 2, h: 5, w: 4, k: 7, seed: 1030, gate: .residual)
        try cbamCase(c: 17, hid: 1, n: 1, h: 3, w: 5, k: 3, seed: 1040, gate: .residual)
    }

    /// Ties, where torch's rule is a choice: the adaptive max pool's gradient goes to the FIRST
    /// maximal element (so it equals the right derivative there and the left one at the other
    /// tied elements), and `amax` over channels splits it evenly between tied channels (two
    /// channels made identical get identical gradients, which sum to the smooth derivative
    /// along both together).
    func testCBAMTies() throws {
        let c = 3, hid = 2, n = 1, h = 3, w = 3, k = 3, plane = h * w
        let base = values(plane, seed: 1100).map { $0 * 2 }
        var x = [Float](repeating: 0.5, count: c * plane)   // channel 0: constant plane
        for i in 0..<plane { x[plane + i] = base[i]; x[2 * plane + i] = base[i] }
        // Positive reduce weights keep both hidden units active, so the max pool's gradient is not 0.
        var reduce = values(hid * c, seed: 1101).map { abs($0) + 0.5 }
        for j in 0..<hid { reduce[j * c + 2] = reduce[j * c + 1] }
        var expand = values(c * hid, seed: 1102)
        for j in 0..<hid { expand[2 * hid + j] = expand[hid + j] }
        let spatialW = values(2 * k * k, seed: 1103)
        var r = values(c * plane, seed: 1104)
        for i in 0..<plane { r[2 * plane + i] = r[plane + i] }
        let cbam = CBAM(channels: c, hidden: hid, reduce: storage(reduce), expand: storage(expand),
                        spatial: Conv2d(weight: storage(spatialW), inChannels: 2, outChannels: 1, geometry: .square(k, padding: 1)))
        let tape = CBAMTraining(cbam)
        let xs = storage(x), out = try FloatStorage(count: x.count), dy = storage(r), dx = try FloatStorage(count: x.count)
        let xmap = FeatureMap(data: xs.pointer, channels: c, batch: n, height: h, width: w)
        try tape.forward(xmap, into: FeatureMap(data: out.pointer, channels: c, batch: n, height: h, width: w))
        let gr = try FloatStorage(count: reduce.count), ge = try FloatStorage(count: expand.count), gs = try FloatStorage(count: spatialW.count)
        try tape.backward(input: xmap, gradOutput: FeatureMap(data: dy.pointer, channels: c, batch: n, height: h, width: w),
                          gradInput: FeatureMap(data: dx.pointer, channels: c, batch: n, height: h, width: w),
                          gradReduce: gr.pointer, gradExpand: ge.pointer, gradSpatial: gs.pointer)
        withExtendedLifetime((xs, out, dy)) {}
        func loss(_ x: [Float]) -> Double {
            let y = cbamReference(x, c: c, hid: hid, n: n, h: h, w: w, k: k, reduce: reduce, expand: expand, spatial: spatialW)
            return zip(y, r).reduce(0) { $0 + $1.0 * Double($1.1) }
        }
        let step: Float = 1e-4
        let l0 = loss(x)
        var worst = 0.0
        for i in 0..<plane {
            var xp = x
            xp[i] += i == 0 ? step : -step
            let oneSided = (loss(xp) - l0) / (Double(xp[i]) - Double(x[i]))
            let err = abs(oneSided - Double(dx.pointer[i])) / max(abs(oneSided), 1e-3)
            worst = max(worst, err)
            XCTAssertLessThan(err, 1e-2, "max pool tie, element \(i)")
        }
        print("gradcheck cbam max-pool tie (one-sided): worst relative error \(worst)")
        worst = 0
        for i in 0..<plane {
            XCTAssertEqual(dx.pointer[plane + i], dx.pointer[2 * plane + i], accuracy: 1e-6, "amax tie, pixel \(i)")
            var xp = x, xm = x
            xp[plane + i] += 1e-3; xp[2 * plane + i] += 1e-3
            xm[plane + i] -= 1e-3; xm[2 * plane + i] -= 1e-3
            let both = (loss(xp) - loss(xm)) / (Double(xp[plane + i]) - Double(xm[plane + i]))
            let ana = Double(dx.pointer[plane + i]) + Double(dx.pointer[2 * plane + i])
            let err = abs(both - ana) / max(abs(both), 1e-3)
            worst = max(worst, err)
            XCTAssertLessThan(err, 1e-3, "amax tie, pixel \(i)")
        }
        print("gradcheck cbam amax tie (joint direction): worst relative error \(worst)")
    }

    // MARK: Composition

    /// A discriminator-shaped chain through the kernels' public contracts: conv k4 s2 p1 (+bias,
    /// LeakyReLU 0.2 as the forward's epilogue) -> CBAM -> conv k4 s1 p0 (+bias) to [E, N, 1, 1]
    /// -> [N, E] -> Linear (no bias) -> BCE(sigmoid) against targets; gradient of the loss with
    /// respect to the input and the first convolution's weight.
    func testDiscriminatorChain() throws {
        let n = 2, c0 = 3, c1 = 4, e = 5, hw = 8
        let x = values(c0 * n * hw * hw, seed: 1200)
        let w1 = values(c1 * c0 * 16, seed: 1201).map { $0 * 0.5 }, b1 = values(c1, seed: 1202)
        let reduce = values(c1, seed: 1203), expand = values(c1, seed: 1204), sw = values(18, seed: 1205)
        let w2 = values(e * c1 * 16, seed: 1206).map { $0 * 0.3 }, b2 = values(e, seed: 1207)
        let wl = values(e, seed: 1208)
        let targets: [Float] = [1, 0]
        let g1 = ConvGeometry.square(4, stride: 2, padding: 1), g2 = ConvGeometry.square(4)
        let cbam = CBAM(channels: c1, hidden: 1, reduce: storage(reduce), expand: storage(expand),
                        spatial: Conv2d(weight: storage(sw), inChannels: 2, outChannels: 1, geometry: .square(3, padding: 1)))
        let conv2 = Conv2d(weight: storage(w2), inChannels: c1, outChannels: e, geometry: g2)
        let linear = Linear(weight: storage(wl), bias: nil, inFeatures: e, outFeatures: 1)
        let b1s = storage(b1), b2s = storage(b2)
        let act = Activation.leakyReLU(slope: 0.2)

        struct Tape { var y1: FloatStorage; var y2: FloatStorage; var h: [Float]; var logits: [Float]; var tape: CBAMTraining; var loss: Float }
        func forward(_ x: [Float], _ w1: [Float]) throws -> Tape {
            let xs = storage(x)
            let conv1 = Conv2d(weight: storage(w1), inChannels: c0, outChannels: c1, geometry: g1)
            let y1 = try FloatStorage(count: c1 * n * 16)
            let cols = try FloatStorage(count: max(conv1.scratchCount(batch: n, h: hw, w: hw), conv2.scratchCount(batch: n, h: 4, w: 4)))
            conv1.forward(FeatureMap(data: xs.pointer, channels: c0, batch: n, height: hw, width: hw),
                          into: FeatureMap(data: y1.pointer, channels: c1, batch: n, height: 4, width: 4),
                          epilogue: Epilogue(scale: nil, shift: b1s, activation: act), cols: cols.pointer)
            let y2 = try FloatStorage(count: y1.count)
            let tape = CBAMTraining(cbam)
            try tape.forward(FeatureMap(data: y1.pointer, channels: c1, batch: n, height: 4, width: 4),
                             into: FeatureMap(data: y2.pointer, channels: c1, batch: n, height: 4, width: 4))
            let y3 = try FloatStorage(count: e * n)
            conv2.forward(FeatureMap(data: y2.pointer, channels: c1, batch: n, height: 4, width: 4),
                          into: FeatureMap(data: y3.pointer, channels: e, batch: n, height: 1, width: 1),
                          epilogue: Epilogue(scale: nil, shift: b2s, activation: .identity), cols: cols.pointer)
            var h = [Float](repeating: 0, count: n * e)
            for i in 0..<e { for b in 0..<n { h[b * e + i] = y3.pointer[i * n + b] } }
            var logits = [Float](repeating: 0, count: n)
            linear.forward(h, batch: n, into: &logits)
            let loss = Losses.bceWithSigmoid(logits: logits, targets: targets, count: n, gradLogits: nil)
            withExtendedLifetime((xs, conv1, cols)) {}
            return Tape(y1: y1, y2: y2, h: h, logits: logits, tape: tape, loss: loss)
        }
        let t = try forward(x, w1)
        // Backward.
        var dLogits = [Float](repeating: 0, count: n)
        _ = Losses.bceWithSigmoid(logits: t.logits, targets: targets, count: n, gradLogits: &dLogits)
        var dh = [Float](repeating: 0, count: n * e), dwl = [Float](repeating: 0, count: e)
        linear.backward(input: t.h, gradOutput: dLogits, batch: n, gradInput: &dh, gradWeight: &dwl, gradBias: nil)
        let dy3 = try FloatStorage(count: e * n)
        for i in 0..<e { for b in 0..<n { dy3.pointer[i * n + b] = dh[b * e + i] } }
        let dy2 = try FloatStorage(count: t.y2.count), cols = try FloatStorage(count: 4096)
        let dw2 = try FloatStorage(count: w2.count), db2 = try FloatStorage(count: e)
        conv2.backward(input: FeatureMap(data: t.y2.pointer, channels: c1, batch: n, height: 4, width: 4),
                       gradOutput: FeatureMap(data: dy3.pointer, channels: e, batch: n, height: 1, width: 1),
                       gradInput: FeatureMap(data: dy2.pointer, channels: c1, batch: n, height: 4, width: 4),
                       gradWeight: dw2.pointer, gradBias: db2.pointer, cols: cols.pointer)
        let dy1 = try FloatStorage(count: t.y1.count)
        let gr = try FloatStorage(count: c1), ge = try FloatStorage(count: c1), gs = try FloatStorage(count: 18)
        try t.tape.backward(input: FeatureMap(data: t.y1.pointer, channels: c1, batch: n, height: 4, width: 4),
                            gradOutput: FeatureMap(data: dy2.pointer, channels: c1, batch: n, height: 4, width: 4),
                            gradInput: FeatureMap(data: dy1.pointer, channels: c1, batch: n, height: 4, width: 4),
                            gradReduce: gr.pointer, gradExpand: ge.pointer, gradSpatial: gs.pointer)
        act.backward(output: t.y1.pointer, grad: dy1.pointer, count: dy1.count)
        let xs = storage(x), dx = try FloatStorage(count: x.count), dw1 = try FloatStorage(count: w1.count), db1 = try FloatStorage(count: c1)
        let conv1 = Conv2d(weight: storage(w1), inChannels: c0, outChannels: c1, geometry: g1)
        conv1.backward(input: FeatureMap(data: xs.pointer, channels: c0, batch: n, height: hw, width: hw),
                       gradOutput: FeatureMap(data: dy1.pointer, channels: c1, batch: n, height: 4, width: 4),
                       gradInput: FeatureMap(data: dx.pointer, channels: c0, batch: n, height: hw, width: hw),
                       gradWeight: dw1.pointer, gradBias: db1.pointer, cols: cols.pointer)
        withExtendedLifetime((xs, cols)) {}
        // A wiring check, looser than the per-op checks: the loss is one Float (its rounding, ~1e-7,
        // over 2h gives ~1e-3 noise), and h must stay small because CBAM's max pools have kinks
        // (near-tied maxima switch inside the FD window: at h = 3e-3 whole weight rows were off).
        check("discriminator chain dX", x, analytic: dx.array, h: 3e-4, tol: 3e-2) { Double(try! forward($0, w1).loss) }
        check("discriminator chain dW1", w1, analytic: dw1.array, h: 3e-4, tol: 3e-2) { Double(try! forward(x, $0).loss) }
    }
}
