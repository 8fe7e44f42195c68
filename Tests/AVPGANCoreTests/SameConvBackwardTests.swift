@testable import AVPGANCore
import XCTest

/// `SameConv.backward` against the convolution's gradients summed directly in Double, on maps
/// below and above `transposedGradientColumns` pixels (so both ways of computing dW run), and
/// with a dW that already holds values (the gradient is added to it).
final class SameConvBackwardTests: XCTestCase, GradientChecking {
    func testGradientsMatchDirectSums() throws {
        for (o, c, k, side) in [(5, 3, 3, 32), (5, 3, 3, 64), (4, 6, 1, 64), (3, 4, 3, 96), (6, 2, 1, 16)] {
            let plane = side * side, depth = c * k * k, pad = k / 2
            let w = values(o * depth, seed: UInt64(o * 10 + c)), x = values(c * plane, seed: UInt64(side)), dy = values(o * plane, seed: 7)
            let before = values(o * depth, seed: 8)
            var dX = [Float](repeating: 0, count: c * plane), dW = before
            var scratch = [Float](repeating: 0, count: SameConv.backwardScratchCount(outChannels: o, channels: c, height: side, width: side,
                                                                                     kernel: k, threads: 1))
            SameConv.backward(weights: w, outChannels: o, kernel: k, input: x, channels: c, height: side, width: side, gradOutput: dy,
                              gradInput: &dX, gradWeight: &dW, threads: 1, scratch: &scratch)
            // Direct: dW[o, c, i, j] = Σ_p dy[o, p] x[c, p + (i, j) − pad]; dX[c, q] = Σ dy[o, q − (i, j) + pad] W[o, c, i, j].
            var wantW = before.map(Double.init), wantX = [Double](repeating: 0, count: c * plane)
            for oc in 0..<o {
                for ic in 0..<c {
                    for i in 0..<k {
                        for j in 0..<k {
                            let tap = ((oc * c + ic) * k + i) * k + j, weight = Double(w[tap])
                            var sum = 0.0
                            for h in 0..<side {
                                let ih = h + i - pad
                                guard ih >= 0, ih < side else { continue }
                                for v in 0..<side {
                                    let iw = v + j - pad
                                    guard iw >= 0, iw < side else { continue }
                                    let g = Double(dy[oc * plane + h * side + v])
                                    sum += g * Double(x[ic * plane + ih * side + iw])
                                    wantX[ic * plane + ih * side + iw] += g * weight
                                }
                            }
                            wantW[tap] += sum
                        }
                    }
                }
            }
            func relative(_ got: [Float], _ want: [Double]) -> Double {
                let scale = want.map(abs).max() ?? 1
                return zip(got, want).map { abs(Double($0) - $1) }.max()! / scale
            }
            let label = "O \(o), C \(c), k \(k), \(side) px (\(plane >= SameConv.transposedGradientColumns ? "dWᵀ" : "dW") GEMM)"
            XCTAssertLessThan(relative(dW, wantW), 1e-5, "dW, \(label)")
            XCTAssertLessThan(relative(dX, wantX), 1e-5, "dX, \(label)")
        }
    }
}
