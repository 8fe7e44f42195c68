@testable import AVPGANCore
import XCTest

/// Finite-difference checks of the enhancer's training blocks: each loss is `Σ output · R`
/// (R random, so every output counts), computed in Double from the Float kernels; central
/// differences with h = 1e-2 against the analytic gradient, relative error
/// `‖num − ana‖ / max(‖num‖, ‖ana‖)` under 2e-3. The argument for that bound: the truncation
/// error of a central difference is O(h²) ≈ 1e-4 relative for these smooth maps, and the Float
/// forward's rounding, ~1e-7 relative on a loss of a few hundred terms, divided by 2h, stays
/// near 1e-5. The LeakyReLU's kink is not smooth: an output whose activation input crosses 0
/// within ±h adds an error of order |R| to the difference quotient, so the StyleConv losses
/// weigh only outputs whose activation input is at least 0.1 from 0 at the base point (no
/// perturbation of 1e-2 moves one that far here).
final class EnhancerGradientTests: XCTestCase {
    /// Storages made by a test live until the test ends (the kernels take raw pointers, and an
    /// optimised build may end a local's lifetime at its last use in Swift).
    var kept: [FloatStorage] = []

    func buffer(_ count: Int) -> FloatStorage {
        let s = try! FloatStorage(count: count)
        kept.append(s)
        return s
    }

    static let tolerance = 2e-3

    func values(_ n: Int, seed: UInt64, scale: Float = 1, offset: Float = 0) -> [Float] {
        var s = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<n).map { _ in
            s ^= s << 13; s ^= s >> 7; s ^= s << 17
            return offset + scale * (Float(s % 2_000_000) / 1_000_000 - 1)
        }
    }

    /// Checks `analytic` against central differences of `loss` at up to 60 entries of `x`.
    func check(_ name: String, _ x: [Float], analytic: [Float], h: Float = 1e-2, _ loss: ([Float]) -> Double) {
        XCTAssertEqual(x.count, analytic.count, "\(name): gradient length")
        let step = max(1, x.count / 60)
        var diff = 0.0, nn = 0.0, na = 0.0, worst = (0, 0.0, 0.0)
        for i in stride(from: 0, to: x.count, by: step) {
            var xp = x, xm = x
            xp[i] += h
            xm[i] -= h
            let numeric = (loss(xp) - loss(xm)) / (Double(xp[i]) - Double(xm[i])), exact = Double(analytic[i])
            if abs(numeric - exact) > abs(worst.1 - worst.2) { worst = (i, numeric, exact) }
            diff += (numeric - exact) * (numeric - exact)
            nn += numeric * numeric
            na += exact * exact
        }
        let error = diff.squareRoot() / max(nn.squareRoot(), na.squareRoot(), 1e-30)
        XCTAssertLessThan(error, Self.tolerance,
                          "\(name): relative error \(error); worst entry \(worst.0): numeric \(worst.1), analytic \(worst.2)")
    }

    func weighted(_ y: FloatStorage, _ r: [Float]) -> Double {
        var s = 0.0
        for i in r.indices { s += Double(y.pointer[i]) * Double(r[i]) }
        return s
    }

    func storage(_ a: [Float]) -> FloatStorage {
        let s = try! FloatStorage(a)
        kept.append(s)
        return s
    }

    struct ModulatedParameters {
        var weight, modulationWeight, modulationBias: [Float]
        func conv(out: Int, inChannels: Int, kernel: Int, styleDim: Int, demodulate: Bool) -> ModulatedConv {
            ModulatedConv(weight: try! FloatStorage(weight), modulationWeight: try! FloatStorage(modulationWeight),
                          modulationBias: try! FloatStorage(modulationBias), outChannels: out, inChannels: inChannels,
                          kernel: kernel, styleDim: styleDim, demodulate: demodulate)
        }
    }

    func testStyleConvGradients() {
        for (upsample, seed) in [(true, UInt64(1)), (false, 2)] {
            let (cin, cout, k, s, side) = (3, 4, 3, 5, 5)
            let out = upsample ? 2 * side : side, threads = Threads.count
            let x0 = values(cin * side * side, seed: seed), style0 = values(s, seed: seed + 1)
            let noise = storage(values(out * out, seed: seed + 2))
            let p0 = ModulatedParameters(weight: values(cout * cin * k * k, seed: seed + 3, scale: 0.6),
                                         modulationWeight: values(cin * s, seed: seed + 4, scale: 0.5),
                                         modulationBias: values(cin, seed: seed + 5, scale: 0.3, offset: 1))
            let bias0 = values(cout, seed: seed + 6, scale: 0.3), noiseWeight0: Float = 0.3
            var r = values(cout * out * out, seed: seed + 7)
            func layer(_ p: ModulatedParameters, _ bias: [Float], _ nw: Float) -> StyleConv {
                StyleConv(conv: p.conv(out: cout, inChannels: cin, kernel: k, styleDim: s, demodulate: true),
                          upsample: upsample, noiseWeight: nw, noise: noise, bias: storage(bias))
            }
            func loss(_ x: [Float] = x0, _ style: [Float] = style0, _ p: ModulatedParameters = p0, _ bias: [Float] = bias0,
                      _ nw: Float = noiseWeight0) -> Double {
                let l = layer(p, bias, nw), xs = storage(x), st = storage(style)
                let y = buffer(r.count)
                let scratch = buffer(l.trainingScratchCount(side: side, threads: threads))
                l.forward(input: xs.pointer, side: side, style: st.pointer, noise: noise.pointer, into: y.pointer,
                          threads: threads, scratch: scratch.pointer)
                return weighted(y, r)
            }
            let l = layer(p0, bias0, noiseWeight0), xs = storage(x0), st = storage(style0)
            let scratch = buffer(l.trainingScratchCount(side: side, threads: threads))
            let y = buffer(r.count)
            l.forward(input: xs.pointer, side: side, style: st.pointer, noise: noise.pointer, into: y.pointer,
                      threads: threads, scratch: scratch.pointer)
            var kept = 0
            for i in r.indices {
                let v = y.pointer[i] > 0 ? y.pointer[i] : y.pointer[i] / 0.2
                if abs(v) < 0.1 { r[i] = 0 } else { kept += 1 }
            }
            XCTAssertGreaterThan(kept, r.count * 3 / 4, "most outputs should be away from the kink")
            let dy = storage(r), dx = buffer(x0.count), dStyle = buffer(s)
            let dW = buffer(p0.weight.count), dA = buffer(p0.modulationWeight.count)
            let db = buffer(cin), dBias = buffer(cout), dNoise = buffer(1)
            l.backward(input: xs.pointer, side: side, style: st.pointer, noise: noise.pointer, output: y.pointer,
                       gradOutput: dy.pointer, gradInput: dx.pointer,
                       gradients: StyleConvGradients(conv: ModulatedConvGradients(weight: dW.pointer, modulationWeight: dA.pointer,
                                                                                  modulationBias: db.pointer),
                                                     noiseWeight: dNoise.pointer, bias: dBias.pointer),
                       gradStyle: dStyle.pointer, threads: threads, scratch: scratch.pointer)
            let name = upsample ? "StyleConv up" : "StyleConv"
            check("\(name) dX", x0, analytic: dx.array) { loss($0) }
            check("\(name) dstyle", style0, analytic: dStyle.array) { loss(x0, $0) }
            check("\(name) dW", p0.weight, analytic: dW.array) { var p = p0; p.weight = $0; return loss(x0, style0, p) }
            check("\(name) dA", p0.modulationWeight, analytic: dA.array) {
                var p = p0; p.modulationWeight = $0; return loss(x0, style0, p)
            }
            check("\(name) db", p0.modulationBias, analytic: db.array) { var p = p0; p.modulationBias = $0; return loss(x0, style0, p) }
            check("\(name) dbias", bias0, analytic: dBias.array) { loss(x0, style0, p0, $0) }
            check("\(name) d(noise weight)", [noiseWeight0], analytic: dNoise.array) { loss(x0, style0, p0, bias0, $0[0]) }
        }
    }

    func testToRGBGradients() {
        let (cin, s, side) = (4, 6, 6), threads = Threads.count
        let x0 = values(cin * side * side, seed: 20), style0 = values(s, seed: 21), skip0 = values(3 * side * side / 4, seed: 22)
        let p0 = ModulatedParameters(weight: values(3 * cin, seed: 23, scale: 0.6), modulationWeight: values(cin * s, seed: 24, scale: 0.5),
                                     modulationBias: values(cin, seed: 25, scale: 0.3, offset: 1))
        let bias0 = values(3, seed: 26), r = values(3 * side * side, seed: 27)
        func layer(_ p: ModulatedParameters, _ bias: [Float]) -> ToRGB {
            ToRGB(conv: p.conv(out: 3, inChannels: cin, kernel: 1, styleDim: s, demodulate: false), bias: storage(bias))
        }
        func loss(_ x: [Float] = x0, _ style: [Float] = style0, _ skip: [Float] = skip0, _ p: ModulatedParameters = p0,
                  _ bias: [Float] = bias0) -> Double {
            let l = layer(p, bias), xs = storage(x), st = storage(style), sk = storage(skip), y = buffer(r.count)
            let scratch = buffer(l.trainingScratchCount(side: side, threads: threads))
            l.forward(input: xs.pointer, side: side, style: st.pointer, skip: sk.pointer, into: y.pointer, threads: threads,
                      scratch: scratch.pointer)
            return weighted(y, r)
        }
        let l = layer(p0, bias0), xs = storage(x0), st = storage(style0)
        let scratch = buffer(l.trainingScratchCount(side: side, threads: threads))
        let dy = storage(r), dx = buffer(x0.count), dStyle = buffer(s)
        let dSkip = buffer(skip0.count), dBias = buffer(3)
        let dW = buffer(p0.weight.count), dA = buffer(p0.modulationWeight.count)
        let db = buffer(cin)
        l.backward(input: xs.pointer, side: side, style: st.pointer, gradOutput: dy.pointer, gradInput: dx.pointer,
                   gradSkip: dSkip.pointer,
                   gradients: ToRGBGradients(conv: ModulatedConvGradients(weight: dW.pointer, modulationWeight: dA.pointer,
                                                                          modulationBias: db.pointer), bias: dBias.pointer),
                   gradStyle: dStyle.pointer, threads: threads, scratch: scratch.pointer)
        check("ToRGB dX", x0, analytic: dx.array) { loss($0) }
        check("ToRGB dstyle", style0, analytic: dStyle.array) { loss(x0, $0) }
        check("ToRGB dskip", skip0, analytic: dSkip.array) { loss(x0, style0, $0) }
        check("ToRGB dW", p0.weight, analytic: dW.array) { var p = p0; p.weight = $0; return loss(x0, style0, skip0, p) }
        check("ToRGB dA", p0.modulationWeight, analytic: dA.array) {
            var p = p0; p.modulationWeight = $0; return loss(x0, style0, skip0, p)
        }
        check("ToRGB db", p0.modulationBias, analytic: db.array) { var p = p0; p.modulationBias = $0; return loss(x0, style0, skip0, p) }
        check("ToRGB dbias", bias0, analytic: dBias.array) { loss(x0, style0, skip0, p0, $0) }
    }

    func testBilinearAndSFTGradients() {
        let threads = Threads.count
        for (up, h, w) in [(true, 3, 5), (false, 6, 4)] {
            let c = 2, x0 = values(c * h * w, seed: 30), outCount = up ? 4 * c * h * w : c * h * w / 4
            let r = values(outCount, seed: 31), scratch = buffer(4 * threads * w)
            func loss(_ x: [Float]) -> Double {
                let xs = storage(x), y = buffer(outCount)
                Bilinear.resize(xs.pointer, channels: c, height: h, width: w, up: up, threads: threads, into: y.pointer,
                                scratch: scratch.pointer)
                return weighted(y, r)
            }
            let dy = storage(r), dx = buffer(x0.count)
            Bilinear.backward(dy.pointer, channels: c, height: h, width: w, up: up, threads: threads, into: dx.pointer,
                              scratch: scratch.pointer)
            check(up ? "bilinear up dX" : "bilinear down dX", x0, analytic: dx.array, loss)
        }
        let (channels, first, plane) = (5, 2, 6)
        let x0 = values(channels * plane, seed: 40), scale0 = values(3 * plane, seed: 41), shift0 = values(3 * plane, seed: 42)
        let r = values(channels * plane, seed: 43)
        func loss(_ x: [Float], _ scale: [Float], _ shift: [Float]) -> Double {
            let xs = storage(x), sc = storage(scale), sh = storage(shift), y = buffer(x.count)
            CSSFT.forward(xs.pointer, channels: channels, first: first, plane: plane, scale: sc.pointer, shift: sh.pointer, into: y.pointer)
            return weighted(y, r)
        }
        let xs = storage(x0), sc = storage(scale0), dy = storage(r)
        let dx = buffer(x0.count), dScale = buffer(scale0.count), dShift = buffer(shift0.count)
        CSSFT.backward(input: xs.pointer, channels: channels, first: first, plane: plane, scale: sc.pointer, gradOutput: dy.pointer,
                       gradInput: dx.pointer, gradScale: dScale.pointer, gradShift: dShift.pointer)
        check("CS-SFT dX", x0, analytic: dx.array) { loss($0, scale0, shift0) }
        check("CS-SFT dscale", scale0, analytic: dScale.array) { loss(x0, $0, shift0) }
        check("CS-SFT dshift", shift0, analytic: dShift.array) { loss(x0, scale0, $0) }
    }

    /// The U-Net ResBlock. Its conv1 has a bias of 5 so that its LeakyReLU stays on the
    /// positive side (the kink cannot be masked inside the block; its negative slope is checked
    /// by the StyleConv case and by parity); conv2's kink is masked at the output as above.
    func testResidualBlockGradients() throws {
        for (up, seed) in [(false, UInt64(70)), (true, 80)] {
            let (c, o, side) = (3, 4, up ? 3 : 6), threads = Threads.count, ws = Workspace()
            let x0 = values(c * side * side, seed: seed), w1 = values(c * c * 9, seed: seed + 1, scale: 0.2)
            let b1 = values(c, seed: seed + 2, scale: 0.2, offset: 5), w2 = values(o * c * 9, seed: seed + 3, scale: 0.3)
            let b2 = values(o, seed: seed + 4, scale: 0.3), ws1 = values(o * c, seed: seed + 5)
            func block(_ w1: [Float], _ w2: [Float], _ skip: [Float]) -> ResidualBlock {
                ResidualBlock(conv1: PlainConv(weight: storage(w1), bias: storage(b1), outChannels: c, inChannels: c, kernel: 3),
                              conv2: PlainConv(weight: storage(w2), bias: storage(b2), outChannels: o, inChannels: c, kernel: 3),
                              skip: PlainConv(weight: storage(skip), bias: nil, outChannels: o, inChannels: c, kernel: 1), up: up)
            }
            let out = up ? 2 * side : side / 2
            let b = block(w1, w2, ws1), counts = b.recordCounts(side: side)
            let buffers = [counts.conv1, counts.resized, counts.conv2, counts.shortcut].map { buffer($0) }
            let record = ResidualBlockRecord(conv1: buffers[0].pointer, resized: buffers[1].pointer, conv2: buffers[2].pointer,
                                             shortcut: buffers[3].pointer)
            func run(_ b: ResidualBlock, _ x: [Float]) throws -> FloatStorage {
                let xs = storage(x), y = buffer(o * out * out)
                try b.trainingForward(xs.pointer, side: side, record: record, into: y.pointer, threads: threads, scratch: ws)
                return y
            }
            _ = try run(b, x0)
            XCTAssertTrue(buffers[0].array.allSatisfy { $0 > 0 }, "conv1 should stay on the positive side of its LeakyReLU")
            var r = values(o * out * out, seed: seed + 6)
            for i in r.indices {
                let y = record.conv2[i], v = y > 0 ? y : y / 0.2
                if abs(v) < 0.1 { r[i] = 0 }
            }
            func loss(_ x: [Float] = x0, _ w1: [Float] = w1, _ w2: [Float] = w2, _ skip: [Float] = ws1) -> Double {
                weighted(try! run(block(w1, w2, skip), x), r)
            }
            _ = try run(b, x0)
            let dy = storage(r), dx = buffer(x0.count), xs = storage(x0)
            let g = [w1.count, c, w2.count, o, ws1.count].map { buffer($0) }
            try b.backward(input: xs.pointer, side: side, record: record, gradOutput: dy.pointer, gradInput: dx.pointer,
                           gradients: ResidualBlockGradients(conv1: PlainConvGradients(weight: g[0].pointer, bias: g[1].pointer),
                                                             conv2: PlainConvGradients(weight: g[2].pointer, bias: g[3].pointer),
                                                             skip: PlainConvGradients(weight: g[4].pointer, bias: nil)),
                           threads: threads, scratch: ws)
            withExtendedLifetime(xs) {}
            let name = up ? "ResBlock up" : "ResBlock down"
            check("\(name) dX", x0, analytic: dx.array) { loss($0) }
            check("\(name) dW1", w1, analytic: g[0].array) { loss(x0, $0) }
            check("\(name) dW2", w2, analytic: g[2].array) { loss(x0, w1, $0) }
            check("\(name) dskip", ws1, analytic: g[4].array) { loss(x0, w1, w2, $0) }
        }
    }

    override func tearDown() { try? Threads.set(0) }

    /// A StyleConv (upsampling, maps large enough to be split) and a ToRGB give the same bytes,
    /// forward and backward, at 1, 2 and 3 threads.
    func testSameBytesAtAnyThreadCount() throws {
        let (cin, cout, s, side) = (16, 24, 8, 32), out = 2 * side
        let noise = storage(values(out * out, seed: 50))
        let conv = ModulatedConv(weight: storage(values(cout * cin * 9, seed: 51, scale: 0.3)),
                                 modulationWeight: storage(values(cin * s, seed: 52)), modulationBias: storage(values(cin, seed: 53, offset: 1)),
                                 outChannels: cout, inChannels: cin, kernel: 3, styleDim: s, demodulate: true)
        let layer = StyleConv(conv: conv, upsample: true, noiseWeight: 0.2, noise: noise, bias: storage(values(cout, seed: 54)))
        let rgb = ToRGB(conv: ModulatedConv(weight: storage(values(3 * cout, seed: 55)), modulationWeight: storage(values(cout * s, seed: 56)),
                                            modulationBias: storage(values(cout, seed: 57, offset: 1)), outChannels: 3, inChannels: cout,
                                            kernel: 1, styleDim: s, demodulate: false),
                        bias: storage(values(3, seed: 58)))
        let x = storage(values(cin * side * side, seed: 59)), style = storage(values(s, seed: 60))
        let skip = storage(values(3 * side * side, seed: 61)), r = values(3 * out * out, seed: 62)
        func run(threads: Int) throws -> [[Float]] {
            try Threads.set(threads)
            let scratch = buffer(max(layer.trainingScratchCount(side: side, threads: threads),
                                                      rgb.trainingScratchCount(side: out, threads: threads)))
            let y = buffer(cout * out * out), image = buffer(3 * out * out)
            layer.forward(input: x.pointer, side: side, style: style.pointer, noise: noise.pointer, into: y.pointer,
                          threads: threads, scratch: scratch.pointer)
            rgb.forward(input: y.pointer, side: out, style: style.pointer, skip: skip.pointer, into: image.pointer,
                        threads: threads, scratch: scratch.pointer)
            let dImage = storage(r), dy = buffer(y.count), dSkip = buffer(skip.count)
            let rgbW = buffer(3 * cout), rgbA = buffer(cout * s), rgbB = buffer(cout)
            let rgbBias = buffer(3), dStyle = buffer(s)
            rgb.backward(input: y.pointer, side: out, style: style.pointer, gradOutput: dImage.pointer, gradInput: dy.pointer,
                         gradSkip: dSkip.pointer,
                         gradients: ToRGBGradients(conv: ModulatedConvGradients(weight: rgbW.pointer, modulationWeight: rgbA.pointer,
                                                                                modulationBias: rgbB.pointer), bias: rgbBias.pointer),
                         gradStyle: dStyle.pointer, threads: threads, scratch: scratch.pointer)
            let dx = buffer(x.count), dW = buffer(cout * cin * 9)
            let dA = buffer(cin * s), db = buffer(cin)
            let dBias = buffer(cout), dNoise = buffer(1)
            layer.backward(input: x.pointer, side: side, style: style.pointer, noise: noise.pointer, output: y.pointer,
                           gradOutput: dy.pointer, gradInput: dx.pointer,
                           gradients: StyleConvGradients(conv: ModulatedConvGradients(weight: dW.pointer, modulationWeight: dA.pointer,
                                                                                      modulationBias: db.pointer),
                                                         noiseWeight: dNoise.pointer, bias: dBias.pointer),
                           gradStyle: dStyle.pointer, threads: threads, scratch: scratch.pointer)
            return [image, dSkip, rgbW, rgbA, rgbB, rgbBias, dStyle, dx, dW, dA, db, dBias, dNoise].map(\.array)
        }
        let names = ["image", "dskip", "ToRGB dW", "ToRGB dA", "ToRGB db", "ToRGB dbias", "dstyle", "dX", "dW", "dA", "db", "dbias", "dnoise"]
        let one = try run(threads: 1)
        for threads in [2, 3] {
            for (name, (a, b)) in zip(names, zip(one, try run(threads: threads))) {
                XCTAssertEqual(a.map(\.bitPattern), b.map(\.bitPattern), "\(name) differs between 1 and \(threads) threads")
            }
        }
    }
}
