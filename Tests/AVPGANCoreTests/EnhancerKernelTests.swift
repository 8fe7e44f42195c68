@testable import AVPGANCore
import XCTest

/// The enhancer's kernels against direct definitions: Winograd F(2x2, 3x3) against the im2col
/// convolution, bilinear resampling against torch's formula written out per pixel, and the
/// modulated weights against upstream's arithmetic.
final class EnhancerKernelTests: XCTestCase {
    private func random(_ n: Int, seed: UInt64) -> [Float] {
        var state = seed &* 0x9E3779B97F4A7C15 | 1
        return (0..<n).map { _ in
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return Float(Double(state % 2_000_001) / 1_000_000 - 1)
        }
    }

    func testWinogradEqualsIm2colConvolution() throws {
        for (o, c, side) in [(5, 3, 4), (17, 9, 8), (32, 40, 16), (3, 64, 6), (24, 8, 64)] {
            let w = random(o * c * 9, seed: UInt64(o * 100 + c)), x = random(c * side * side, seed: UInt64(side))
            let before = random(o * side * side, seed: 99)
            for accumulate in [false, true] {
                var direct = before, winograd = before
                var u = [Float](repeating: 0, count: 16 * o * c)
                var scratch = [Float](repeating: 0, count: max(SameConv.scratchCount(channels: c, width: side, height: side, kernel: 3, threads: 2),
                                                                WinogradConv.scratchCount(outChannels: o, channels: c, height: side, width: side, threads: 2)))
                let bias: (Int, UnsafeMutablePointer<Float>, Range<Int>) -> Void = { ch, plane, pixels in
                    for p in pixels { plane[p] += Float(ch) * 0.01 }
                }
                SameConv.forward(weights: w, outChannels: o, kernel: 3, input: x, channels: c, height: side, width: side,
                                 into: &direct, accumulate: accumulate, threads: 2, scratch: &scratch, epilogue: bias)
                WinogradConv.transformWeights(w, outChannels: o, inChannels: c, into: &u)
                WinogradConv.forward(weights: u, outChannels: o, input: x, channels: c, height: side, width: side,
                                     into: &winograd, accumulate: accumulate, threads: 2, scratch: &scratch, epilogue: bias)
                let scale = direct.map(abs).max()!
                let (diff, at) = maxAbsDifference(winograd, direct)
                XCTAssertLessThanOrEqual(diff, 2e-6 * max(scale, 1) * Float(c).squareRoot(),
                                         "\(o)x\(c) on \(side)x\(side), accumulate \(accumulate): Winograd differs by \(diff) at \(at)")
            }
        }
    }

    func testBilinearMatchesTorchFormula() {
        for (h, w, up) in [(4, 6, true), (8, 4, false), (5, 3, true)] {
            let x = random(2 * h * w, seed: UInt64(h * w))
            let (oh, ow) = up ? (2 * h, 2 * w) : (h / 2, w / 2)
            var out = [Float](repeating: .nan, count: 2 * oh * ow)
            var scratch = [Float](repeating: 0, count: 4 * 2 * ow)
            Bilinear.resize(x, channels: 2, height: h, width: w, up: up, threads: 2, into: &out, scratch: &scratch)
            let ratio: Double = up ? 0.5 : 2
            func source(_ d: Int, _ n: Int) -> (Int, Int, Double) {
                let s = max(ratio * (Double(d) + 0.5) - 0.5, 0)
                let i0 = min(Int(s), n - 1)
                return (i0, min(i0 + 1, n - 1), s - Double(i0))
            }
            for c in 0..<2 {
                for y in 0..<oh {
                    for xo in 0..<ow {
                        let (y0, y1, ly) = source(y, h), (x0, x1, lx) = source(xo, w)
                        func v(_ r: Int, _ q: Int) -> Double { Double(x[c * h * w + r * w + q]) }
                        let expected = (1 - ly) * ((1 - lx) * v(y0, x0) + lx * v(y0, x1)) + ly * ((1 - lx) * v(y1, x0) + lx * v(y1, x1))
                        XCTAssertEqual(Double(out[c * oh * ow + y * ow + xo]), expected, accuracy: 1e-6,
                                       "\(h)x\(w) \(up ? "up" : "down"): channel \(c) pixel (\(y), \(xo))")
                    }
                }
            }
        }
    }

    func testModulatedWeightsAreDemodulatedRows() throws {
        let (o, c, s) = (4, 3, 5)
        let conv = ModulatedConv(weight: try FloatStorage(random(o * c * 9, seed: 1)), modulationWeight: try FloatStorage(random(c * s, seed: 2)),
                                 modulationBias: try FloatStorage([1, 1, 1]), outChannels: o, inChannels: c, kernel: 3,
                                 styleDim: s, demodulate: true)
        let style = random(s, seed: 3)
        var scratch = [Float](repeating: 0, count: c), w = [Float](repeating: 0, count: o * c * 9)
        conv.modulate(style: style, gain: 2, styleScratch: &scratch, into: &w)
        for row in 0..<o {
            let norm = w[(row * c * 9)..<((row + 1) * c * 9)].reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
            XCTAssertEqual(norm, 2, accuracy: 1e-5, "row \(row) of demodulated weights times gain 2 must have norm 2")
        }
    }
}
