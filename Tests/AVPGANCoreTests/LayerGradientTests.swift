@testable import AVPGANCore
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Gradients of the layers (GradientChecking): convolutions, transposed convolutions, BatchNorm
/// in training, activations, the voice encoder's time mean and L2 normalisation, linear layers,
/// and spectral norm in training.
final class LayerGradientTests: XCTestCase, GradientChecking {
    // MARK: Conv2d / Conv1d

    /// A convolution layer as the checks drive it: its scratch sizes, a forward with a bias
    /// epilogue, and its backward (input, dY, dX, dW, dBias, scratch).
    struct ConvUnderTest {
        let scratch: Int, backwardScratch: Int
        let forward: (FeatureMap, FeatureMap, Epilogue, UnsafeMutablePointer<Float>) -> Void
        let backward: (FeatureMap, FeatureMap, FeatureMap, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>,
                       UnsafeMutablePointer<Float>) -> Void
    }

    /// Checks dX, dW and dBias of the layer `make` builds on its weights (`weights` floats), for
    /// an input `cin x n x h x w` and an output `cout x n x out`.
    func convLayerCase(_ label: String, cin: Int, cout: Int, n: Int, h: Int, w: Int, out: (h: Int, w: Int), weights: Int,
                       seed: UInt64, make: (FloatStorage) -> ConvUnderTest) {
        let (oh, ow) = out
        let x = values(cin * n * h * w, seed: seed)
        let wt = values(weights, seed: seed + 1)
        let bias = values(cout, seed: seed + 2)
        let r = values(cout * n * oh * ow, seed: seed + 3)
        func run(_ x: [Float], _ wt: [Float], _ bias: [Float]) -> Double {
            let xs = storage(x), ws = storage(wt), bs = storage(bias)
            let conv = make(ws)
            let out = try! FloatStorage(count: r.count)
            let cols = try! FloatStorage(count: max(1, conv.scratch))
            conv.forward(FeatureMap(data: xs.pointer, channels: cin, batch: n, height: h, width: w),
                         FeatureMap(data: out.pointer, channels: cout, batch: n, height: oh, width: ow),
                         Epilogue(scale: nil, shift: bs, activation: .identity), cols.pointer)
            return withExtendedLifetime((xs, ws, bs, cols)) { weighted(out.pointer, r) }
        }
        let xs = storage(x), ws = storage(wt), dy = storage(r)
        let conv = make(ws)
        let dx = try! FloatStorage(count: x.count)
        dx.pointer.update(repeating: .nan, count: x.count)  // overwritten
        let dw = storage([Float](repeating: 0.5, count: wt.count))  // accumulates
        let db = storage([Float](repeating: 0.5, count: cout))
        let cols = try! FloatStorage(count: max(1, conv.backwardScratch))
        conv.backward(FeatureMap(data: xs.pointer, channels: cin, batch: n, height: h, width: w),
                      FeatureMap(data: dy.pointer, channels: cout, batch: n, height: oh, width: ow),
                      FeatureMap(data: dx.pointer, channels: cin, batch: n, height: h, width: w),
                      dw.pointer, db.pointer, cols.pointer)
        withExtendedLifetime((xs, ws, dy, cols)) {}
        check("\(label) dX", x, analytic: dx.array) { run($0, wt, bias) }
        check("\(label) dW", wt, analytic: dw.array.map { $0 - 0.5 }) { run(x, $0, bias) }
        check("\(label) dBias", bias, analytic: db.array.map { $0 - 0.5 }) { run(x, wt, $0) }
    }

    func convCase(_ label: String, cin: Int, cout: Int, n: Int, h: Int, w: Int, g: ConvGeometry, seed: UInt64) {
        convLayerCase(label, cin: cin, cout: cout, n: n, h: h, w: w, out: g.convOutput(h: h, w: w)!, weights: cout * cin * g.taps,
                      seed: seed) { ws in
            let c = Conv2d(weight: ws, inChannels: cin, outChannels: cout, geometry: g)
            return ConvUnderTest(scratch: c.scratchCount(batch: n, h: h, w: w), backwardScratch: c.backwardScratchCount(batch: n, h: h, w: w),
                                 forward: { c.forward($0, into: $1, epilogue: $2, cols: $3) },
                                 backward: { c.backward(input: $0, gradOutput: $1, gradInput: $2, gradWeight: $3, gradBias: $4, cols: $5) })
        }
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
        convLayerCase(label, cin: cin, cout: cout, n: n, h: h, w: w, out: g.transposedOutput(h: h, w: w)!,
                      weights: cin * cout * g.taps, seed: seed) { ws in
            let c = ConvTranspose2d(weight: ws, inChannels: cin, outChannels: cout, geometry: g)
            return ConvUnderTest(scratch: c.scratchCount(batch: n, h: h, w: w), backwardScratch: c.backwardScratchCount(batch: n, h: h, w: w),
                                 forward: { c.forward($0, into: $1, epilogue: $2, cols: $3) },
                                 backward: { c.backward(input: $0, gradOutput: $1, gradInput: $2, gradWeight: $3, gradBias: $4, cols: $5) })
        }
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
}
