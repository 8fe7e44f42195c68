@testable import AVPGANCore
import XCTest

/// Finite-difference checks of the training kernels' backward passes, shared by the gradient
/// test classes: every op's loss is `Σ output · R` with random R (so every output element
/// matters), its gradient checked by central differences (Float kernels, the perturbation
/// actually applied in Double), relative error `‖num − ana‖ / max(‖num‖, ‖ana‖)` over the
/// checked entries.
protocol GradientChecking {}

extension GradientChecking {
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
}
