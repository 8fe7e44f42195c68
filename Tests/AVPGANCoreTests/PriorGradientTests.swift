@testable import AVPGANCore
import XCTest

/// Finite-difference checks of the face prior's style MLP backward (`StyleMLP`: NormStyleCode,
/// then Linear + LeakyReLU 0.2 twice) for three vectors: dz and every layer's weight and bias
/// gradient, loss `Σ w · R`.
final class PriorGradientTests: XCTestCase, GradientChecking {
    func testStyleMLPBackward() throws {
        let s = 6, v = 3, layers = 2
        let z = values(v * s, seed: 1).map { 2 * $0 }, r = values(v * s, seed: 2)
        var parameters: [([Float], [Float])] = []
        for k in 0..<layers {
            let weight: [Float] = values(s * s, seed: UInt64(10 + k)).map { $0 * 0.8 }
            let bias: [Float] = values(s, seed: UInt64(20 + k)).map { $0 * 0.3 }
            parameters.append((weight, bias))
        }
        func mlp(_ p: [([Float], [Float])]) -> StyleMLP {
            StyleMLP(layers: p.map { (storage($0.0), storage($0.1)) }, length: s)
        }
        func loss(_ p: [([Float], [Float])], _ z: [Float]) -> Double {
            let net = mlp(p), record = storage([Float](repeating: 0, count: net.recordCount(vectors: v)))
            z.withUnsafeBufferPointer { net.forward($0.baseAddress!, vectors: v, record: record.pointer) }
            let result = weighted(net.output(record: record.pointer, vectors: v), r)
            withExtendedLifetime(net) {}
            return result
        }
        let net = mlp(parameters), record = storage([Float](repeating: 0, count: net.recordCount(vectors: v)))
        let grads = (0..<layers).map { _ in (storage([Float](repeating: 0, count: s * s)), storage([Float](repeating: 0, count: s))) }
        let dz = storage([Float](repeating: 0, count: v * s)), scratch = storage([Float](repeating: 0, count: net.backwardScratchCount(vectors: v)))
        z.withUnsafeBufferPointer { zp in
            net.forward(zp.baseAddress!, vectors: v, record: record.pointer)
            r.withUnsafeBufferPointer { rp in
                net.backward(zp.baseAddress!, vectors: v, record: record.pointer, gradOutput: rp.baseAddress!,
                             gradients: StyleMLPGradients(layers: grads.map { ($0.0.pointer, $0.1.pointer) }), gradInput: dz.pointer,
                             scratch: scratch.pointer)
            }
        }
        check("style MLP dz", z, analytic: dz.array, h: 1e-3, tol: 1e-2) { loss(parameters, $0) }
        for k in 0..<layers {
            check("style MLP layer \(k) dW", parameters[k].0, analytic: grads[k].0.array, h: 1e-3, tol: 1e-2) { w in
                var p = parameters
                p[k].0 = w
                return loss(p, z)
            }
            check("style MLP layer \(k) db", parameters[k].1, analytic: grads[k].1.array, h: 1e-3, tol: 1e-2) { b in
                var p = parameters
                p[k].1 = b
                return loss(p, z)
            }
        }
        withExtendedLifetime((net, record, grads, dz, scratch)) {}
    }
}
