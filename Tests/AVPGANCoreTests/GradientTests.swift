@testable import AVPGANCore
import XCTest
#if canImport(Glibc)
import Glibc
#endif

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
        if err >= tol {
            let worst = num.indices.sorted { abs(num[$0] - ana[$0]) > abs(num[$1] - ana[$1]) }
            for k in worst.prefix(6) { print("  entry \(k * step): numeric \(num[k]) analytic \(ana[k])") }
        }
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
            return withExtendedLifetime((xs, ws, bs, cols)) { weighted(out.pointer, r) }
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
        withExtendedLifetime((xs, ws, dy, cols)) {}
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
        // Large enough for the multi-threaded col2im path.
        convCase("conv k4 s2 p1 large", cin: 8, cout: 6, n: 4, h: 32, w: 32, g: .square(4, stride: 2, padding: 1), seed: 90)
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
            return withExtendedLifetime((xs, ws, bs, cols)) { weighted(out.pointer, r) }
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
        withExtendedLifetime((xs, ws, dy, cols)) {}
        check("\(label) dX", x, analytic: dx.array) { run($0, wt, bias) }
        check("\(label) dW", wt, analytic: dw.array.map { $0 - 0.5 }) { run(x, $0, bias) }
        check("\(label) dBias", bias, analytic: db.array.map { $0 - 0.5 }) { run(x, wt, $0) }
    }

    func testConvTranspose2dBackward() {
        convTCase("convT k4 s1 p0 (1x1 in)", cin: 5, cout: 4, n: 3, h: 1, w: 1, g: .square(4), seed: 110)
        convTCase("convT k4 s2 p1", cin: 3, cout: 4, n: 2, h: 4, w: 3, g: .square(4, stride: 2, padding: 1), seed: 120)
        convTCase("convT k1", cin: 4, cout: 3, n: 2, h: 3, w: 3, g: .square(1), seed: 130)
        convTCase("convT k3 s2 p1", cin: 2, cout: 3, n: 2, h: 3, w: 4, g: .square(3, stride: 2, padding: 1), seed: 140)
        convTCase("convT k4 s2 p1 large", cin: 6, cout: 8, n: 4, h: 16, w: 16, g: .square(4, stride: 2, padding: 1), seed: 150)
    }

    // MARK: BatchNorm (training)

    func testBatchNormTraining() {
        let c = 3, n = 4, h = 2, w = 3, m = n * h * w
        let x = values(c * m, seed: 200).enumerated().map { $0.element * Float(1 + $0.offset / m) + 0.3 }
        let gamma = values(c, seed: 201).map { $0 + 1.5 }, beta = values(c, seed: 202)
        let r = values(c * m, seed: 203)
        let rm0 = values(c, seed: 204), rv0 = values(c, seed: 205).map { $0 + 2 }
        let bn = BatchNormTraining(channels: c)
        func run(_ x: [Float], _ gamma: [Float], _ beta: [Float]) -> Double {
            let xs = storage(x), out = try! FloatStorage(count: x.count)
            let rm = storage(rm0), rv = storage(rv0), sm = storage(rm0), si = storage(rm0)
            var t = 0
            let gs = storage(gamma), bs = storage(beta)
            bn.forward(FeatureMap(data: xs.pointer, channels: c, batch: n, height: h, width: w),
                       into: FeatureMap(data: out.pointer, channels: c, batch: n, height: h, width: w),
                       gamma: gs.pointer, beta: bs.pointer, runningMean: rm.pointer, runningVar: rv.pointer,
                       numBatchesTracked: &t, saveMean: sm.pointer, saveInvStd: si.pointer)
            return withExtendedLifetime((xs, gs, bs, rm, rv, sm, si)) { weighted(out.pointer, r) }
        }
        let xs = storage(x), out = try! FloatStorage(count: x.count)
        let gs = storage(gamma), bs = storage(beta)
        let rm = storage(rm0), rv = storage(rv0), sm = try! FloatStorage(count: c), si = try! FloatStorage(count: c)
        var tracked = 7
        let xmap = FeatureMap(data: xs.pointer, channels: c, batch: n, height: h, width: w)
        bn.forward(xmap, into: FeatureMap(data: out.pointer, channels: c, batch: n, height: h, width: w),
                   gamma: gs.pointer, beta: bs.pointer, runningMean: rm.pointer, runningVar: rv.pointer,
                   numBatchesTracked: &tracked, saveMean: sm.pointer, saveInvStd: si.pointer)
        XCTAssertEqual(tracked, 8)
        // Running statistics against the closed form (torch: momentum 0.1, unbiased variance).
        var maxOut: Double = 0
        for ch in 0..<c {
            let row = x[(ch * m)..<((ch + 1) * m)].map(Double.init)
            let mean = row.reduce(0, +) / Double(m)
            let ss = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
            XCTAssertEqual(Double(rm.pointer[ch]), 0.9 * Double(rm0[ch]) + 0.1 * mean, accuracy: 1e-6)
            XCTAssertEqual(Double(rv.pointer[ch]), 0.9 * Double(rv0[ch]) + 0.1 * ss / Double(m - 1), accuracy: 1e-6)
            let inv = 1 / (ss / Double(m) + 1e-5).squareRoot()
            for i in 0..<m {
                let ref = (row[i] - mean) * inv * Double(gamma[ch]) + Double(beta[ch])
                maxOut = max(maxOut, abs(ref - Double(out.pointer[ch * m + i])))
            }
        }
        XCTAssertLessThan(maxOut, 1e-5)
        let dy = storage(r), dx = try! FloatStorage(count: x.count)
        let dg = storage([Float](repeating: 0.25, count: c)), db = storage([Float](repeating: 0.25, count: c))
        bn.backward(input: xmap, gradOutput: FeatureMap(data: dy.pointer, channels: c, batch: n, height: h, width: w),
                    gradInput: FeatureMap(data: dx.pointer, channels: c, batch: n, height: h, width: w),
                    gamma: gs.pointer, saveMean: sm.pointer, saveInvStd: si.pointer, gradGamma: dg.pointer, gradBeta: db.pointer)
        withExtendedLifetime((xs, gs, bs, rm, rv, sm, si, dy)) {}
        check("batchnorm dX", x, analytic: dx.array, h: 5e-3) { run($0, gamma, beta) }
        check("batchnorm dGamma", gamma, analytic: dg.array.map { $0 - 0.25 }, h: 5e-3) { run(x, $0, beta) }
        check("batchnorm dBeta", beta, analytic: db.array.map { $0 - 0.25 }, h: 5e-3) { run(x, gamma, $0) }
    }

    // MARK: Activations, time mean, L2 normalisation

    func testActivationBackward() {
        let x = values(60, seed: 300).map { abs($0) < 0.05 ? $0 + 0.2 : $0 * 3 }
        let r = values(60, seed: 301)
        for act in [Activation.relu, .leakyReLU(slope: 0.2), .sigmoid] {
            let y = x.map { act($0) }
            var g = r
            y.withUnsafeBufferPointer { yp in g.withUnsafeMutableBufferPointer { act.backward(output: yp.baseAddress!, grad: $0.baseAddress!, count: 60) } }
            check("activation \(act)", x, analytic: g, h: 1e-2) { x in
                var s: Double = 0
                for i in x.indices { s += Double(act(x[i])) * Double(r[i]) }
                return s
            }
        }
    }

    func testTimeMeanAndL2NormalizeBackward() {
        let rows = 4, length = 7
        let x = values(rows * length, seed: 400), r = values(rows, seed: 401)
        var dx = [Float](repeating: .nan, count: x.count)
        Reductions.timeMeanBackward(r, rows: rows, length: length, into: &dx)
        check("time mean", x, analytic: dx) { x in
            var out = [Float](repeating: 0, count: rows)
            Reductions.timeMean(x, channels: rows, length: length, into: &out)
            return self.weighted(out, r)
        }
        // F.normalize on every column of a CNHW [E, N] map (stride N).
        let e = 6, n = 3
        let z = values(e * n, seed: 402), rz = values(e * n, seed: 403)
        func normalized(_ z: [Float]) -> [Float] {
            var y = z
            for b in 0..<n {
                var col = (0..<e).map { z[$0 * n + b] }
                Reductions.l2Normalize(&col, count: e)
                for i in 0..<e { y[i * n + b] = col[i] }
            }
            return y
        }
        var dz = [Float](repeating: .nan, count: z.count)
        for b in 0..<n {
            z.withUnsafeBufferPointer { zp in rz.withUnsafeBufferPointer { rp in dz.withUnsafeMutableBufferPointer { dp in
                Reductions.l2NormalizeBackward(input: zp.baseAddress! + b, gradOutput: rp.baseAddress! + b,
                                               into: dp.baseAddress! + b, count: e, stride: n)
            } } }
        }
        check("l2 normalize", z, analytic: dz, h: 1e-3) { self.weighted(normalized($0), rz) }
        // Below eps the norm is clamped: dx = dy / eps.
        let tiny: [Float] = [1e-14, -2e-14, 0], dy: [Float] = [1, 2, -3]
        var dt = [Float](repeating: 0, count: 3)
        Reductions.l2NormalizeBackward(input: tiny, gradOutput: dy, into: &dt, count: 3)
        XCTAssertEqual(dt, dy.map { $0 / 1e-12 })
    }

    // MARK: Linear

    func testLinearBackward() {
        let batch = 3, fin = 5, fout = 4
        let x = values(batch * fin, seed: 500), wt = values(fout * fin, seed: 501), bias = values(fout, seed: 502)
        let r = values(batch * fout, seed: 503)
        func run(_ x: [Float], _ wt: [Float], _ bias: [Float]?) -> Double {
            let lin = Linear(weight: storage(wt), bias: bias.map { storage($0) }, inFeatures: fin, outFeatures: fout)
            var y = [Float](repeating: 0, count: batch * fout)
            lin.forward(x, batch: batch, into: &y)
            return weighted(y, r)
        }
        let lin = Linear(weight: storage(wt), bias: storage(bias), inFeatures: fin, outFeatures: fout)
        var dx = [Float](repeating: .nan, count: x.count)
        var dw = [Float](repeating: 1, count: wt.count), db = [Float](repeating: 1, count: fout)
        lin.backward(input: x, gradOutput: r, batch: batch, gradInput: &dx, gradWeight: &dw, gradBias: &db)
        check("linear dX", x, analytic: dx) { run($0, wt, bias) }
        check("linear dW", wt, analytic: dw.map { $0 - 1 }) { run(x, $0, bias) }
        check("linear dBias", bias, analytic: db.map { $0 - 1 }) { run(x, wt, $0) }
        // Without bias (the heads): same dX and dW.
        var dx2 = [Float](repeating: .nan, count: x.count), dw2 = [Float](repeating: 0, count: wt.count)
        Linear(weight: storage(wt), bias: nil, inFeatures: fin, outFeatures: fout)
            .backward(input: x, gradOutput: r, batch: batch, gradInput: &dx2, gradWeight: &dw2, gradBias: nil)
        check("linear (no bias) dW", wt, analytic: dw2) { run(x, $0, nil) }
        XCTAssertEqual(dx2, dx)
    }

    // MARK: Losses

    func testBCEWithSigmoid() {
        // Hand values: p = sigmoid(0) = 0.5, t = 1; p = sigmoid(2), t = 0.
        var g = [Float](repeating: .nan, count: 2)
        let loss = Losses.bceWithSigmoid(logits: [0, 2], targets: [1, 0], count: 2, gradLogits: &g)
        let p2 = 1 / (1 + exp(-2.0 as Double))
        XCTAssertEqual(Double(loss), (0.6931471805599453 - log(1 - p2)) / 2, accuracy: 1e-6)
        XCTAssertEqual(Double(g[0]), -0.25, accuracy: 1e-7)
        XCTAssertEqual(Double(g[1]), p2 / 2, accuracy: 1e-7)
        // torch's clamp: log(1 - sigmoid(200)) = log 0 -> -100, and the gradient is 0 there.
        var g2: [Float] = [.nan, .nan]
        let clamped = Losses.bceWithSigmoid(logits: [200, -200], targets: [0, 1], count: 2, gradLogits: &g2)
        XCTAssertEqual(clamped, 100)
        XCTAssertEqual(g2, [0, 0])
        // Finite differences on random logits and targets in {0, 1}.
        let x = values(8, seed: 600).map { $0 * 3 }, t: [Float] = [1, 0, 0, 1, 1, 0, 1, 0]
        var gx = [Float](repeating: .nan, count: 8)
        _ = Losses.bceWithSigmoid(logits: x, targets: t, count: 8, gradLogits: &gx)
        check("bce(sigmoid)", x, analytic: gx, h: 1e-2) { Double(Losses.bceWithSigmoid(logits: $0, targets: t, count: 8, gradLogits: nil)) }
    }

    func testLogSoftmaxNLLAndCrossEntropy() {
        let logits: [Float] = [1, 2, 3, 1, 1, 1], labels = [2, 0]
        let lse0: Double = log(exp(1.0 as Double) + exp(2.0 as Double) + exp(3.0 as Double))
        let expected = ((lse0 - 3) + log(3)) / 2   // 0.7531...
        var lp = [Float](repeating: 0, count: 6)
        Losses.logSoftmax(logits, rows: 2, classes: 3, into: &lp)
        var gl = [Float](repeating: .nan, count: 6)
        let nll = Losses.nll(logProbs: lp, labels: labels, classes: 3, gradLogProbs: &gl)
        XCTAssertEqual(Double(nll), expected, accuracy: 1e-6)
        XCTAssertEqual(gl, [0, 0, -0.5, -0.5, 0, 0])
        var gce = [Float](repeating: .nan, count: 6)
        XCTAssertEqual(Double(Losses.crossEntropy(logits: logits, labels: labels, classes: 3, gradLogits: &gce)), expected, accuracy: 1e-6)
        // Hand gradient of CE: (softmax - onehot) / rows.
        let sm0 = [1.0, 2, 3].map { exp($0 - lse0) }
        let third: Double = 1.0 / 3
        let handCE: [Double] = [sm0[0] / 2, sm0[1] / 2, (sm0[2] - 1) / 2, (third - 1) / 2, third / 2, third / 2]
        for i in 0..<6 { XCTAssertEqual(Double(gce[i]), handCE[i], accuracy: 1e-7) }
        // The chain log_softmax backward(nll backward) equals the fused gradient.
        var chain = [Float](repeating: .nan, count: 6)
        Losses.logSoftmaxBackward(output: lp, gradOutput: gl, rows: 2, classes: 3, into: &chain)
        for i in 0..<6 { XCTAssertEqual(chain[i], gce[i], accuracy: 1e-7) }
        // Finite differences: log_softmax + NLL, and log_softmax alone against random weights.
        let rows = 4, classes = 5
        let x = values(rows * classes, seed: 700).map { $0 * 2 }, lab = [3, 0, 4, 1]
        var g = [Float](repeating: .nan, count: x.count)
        _ = Losses.crossEntropy(logits: x, labels: lab, classes: classes, gradLogits: &g)
        check("cross entropy", x, analytic: g, h: 1e-2) { Double(Losses.crossEntropy(logits: $0, labels: lab, classes: classes, gradLogits: nil)) }
        let r = values(rows * classes, seed: 701)
        var y = [Float](repeating: 0, count: x.count), dx = [Float](repeating: .nan, count: x.count)
        Losses.logSoftmax(x, rows: rows, classes: classes, into: &y)
        Losses.logSoftmaxBackward(output: y, gradOutput: r, rows: rows, classes: classes, into: &dx)
        check("log softmax", x, analytic: dx, h: 1e-2) { x in
            var y = [Float](repeating: 0, count: x.count)
            Losses.logSoftmax(x, rows: rows, classes: classes, into: &y)
            return self.weighted(y, r)
        }
    }

    // MARK: Adam

    func testAdamAgainstHandSteps() throws {
        // Step 1, p = 1, g = 0.5: m = 0.25, v = 0.00025, step_size = 2e-4 / 0.5, denom = 0.5 + 1e-8.
        let adam = try AdamState(count: 1)
        var p: [Float] = [1]
        adam.update(param: &p, grad: [0.5])
        XCTAssertEqual(p[0], 0.9998, accuracy: 1e-7)
        XCTAssertEqual(adam.expAvg.pointer[0], 0.25)
        XCTAssertEqual(Double(adam.expAvgSq.pointer[0]), 0.00025, accuracy: 1e-10)
        // Several steps on a vector against the formula in Double.
        let n = 9
        let state = try AdamState(count: n)
        var q = values(n, seed: 800)
        var qd = q.map(Double.init), m = [Double](repeating: 0, count: n), v = m
        for t in 1...5 {
            let g = values(n, seed: 800 + UInt64(t)).map { $0 * Float(t) }
            state.update(param: &q, grad: g)
            let bc1 = 1 - pow(0.5, Double(t)), bc2 = 1 - pow(0.999, Double(t))
            for i in 0..<n {
                let gi = Double(g[i])
                m[i] = 0.5 * m[i] + 0.5 * gi
                v[i] = 0.999 * v[i] + 0.001 * gi * gi
                qd[i] -= 2e-4 / bc1 * m[i] / (v[i].squareRoot() / bc2.squareRoot() + 1e-8)
            }
        }
        XCTAssertEqual(state.step, 5)
        for i in 0..<n { XCTAssertEqual(Double(q[i]), qd[i], accuracy: 1e-6) }
    }

    // MARK: Spectral norm (training)

    func spectralCase(shape: [Int], dim: Int, seed: UInt64) {
        let count = shape.reduce(1, *), rows = shape[dim], cols = count / rows
        let w = values(count, seed: seed)
        let u0 = values(rows, seed: seed + 1), v0 = values(cols, seed: seed + 2)
        let r = values(count, seed: seed + 3)
        // Matrix index of weight_orig element i (dim first).
        func mat(_ i: Int) -> (Int, Int) {
            if dim == 0 { return (i / cols, i % cols) }
            let inner = count / (shape[0] * shape[1])
            let a = i / (shape[1] * inner), o = (i / inner) % shape[1], t = i % inner
            return (o, a * inner + t)
        }
        func sigma(_ w: [Float], _ u: [Double], _ v: [Double]) -> Double {
            var wv = [Double](repeating: 0, count: rows)
            for i in 0..<count { let (a, b) = mat(i); wv[a] += Double(w[i]) * v[b] }
            return zip(u, wv).reduce(0) { $0 + $1.0 * $1.1 }
        }
        // Power iteration in Double.
        var vd = [Double](repeating: 0, count: cols), ud = [Double](repeating: 0, count: rows)
        for i in 0..<count { let (a, b) = mat(i); vd[b] += Double(w[i]) * Double(u0[a]) }
        var nv = vd.reduce(0) { $0 + $1 * $1 }.squareRoot(); vd = vd.map { $0 / max(nv, 1e-12) }
        for i in 0..<count { let (a, b) = mat(i); ud[a] += Double(w[i]) * vd[b] }
        nv = ud.reduce(0) { $0 + $1 * $1 }.squareRoot(); ud = ud.map { $0 / max(nv, 1e-12) }
        let sigmaRef = sigma(w, ud, vd)

        let sn = SpectralNormTraining(shape: shape, dim: dim, u: u0, v: v0)
        var weight = [Float](repeating: .nan, count: count)
        sn.forward(weightOrig: w, into: &weight)
        XCTAssertEqual(Double(sn.sigma), sigmaRef, accuracy: 1e-5 * abs(sigmaRef))
        for k in 0..<rows { XCTAssertEqual(Double(sn.u[k]), ud[k], accuracy: 1e-5) }
        for k in 0..<cols { XCTAssertEqual(Double(sn.v[k]), vd[k], accuracy: 1e-5) }
        for i in 0..<count { XCTAssertEqual(Double(weight[i]), Double(w[i]) / sigmaRef, accuracy: 1e-5) }
        // Backward with u, v constant (as torch): FD of Σ (W / σ(W; u, v)) · R.
        var g = [Float](repeating: 0, count: count)
        sn.backward(weightOrig: w, gradWeight: r, gradWeightOrig: &g)
        let uc = sn.u.map(Double.init), vc = sn.v.map(Double.init)
        check("spectral norm dim \(dim) \(shape)", w, analytic: g, h: 1e-2) { w in
            let s = sigma(w, uc, vc)
            var l: Double = 0
            for i in 0..<count { l += Double(w[i]) / s * Double(r[i]) }
            return l
        }
    }

    func testSpectralNormTraining() {
        spectralCase(shape: [4, 3, 2, 2], dim: 0, seed: 900)
        spectralCase(shape: [3, 5, 2, 2], dim: 1, seed: 910)
        spectralCase(shape: [6, 4], dim: 0, seed: 920)
    }

    // MARK: CBAM

    /// CBAM forward in Double, from the reference's definition, on CNHW; `offset` 1 is the
    /// residual gate `x (1 + M)` (tools/reference_recipes.py).
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
