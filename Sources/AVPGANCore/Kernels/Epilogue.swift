/// What follows a convolution's GEMM, applied per channel in one pass over its row:
/// `y = activation(y * scale[c] + shift[c])`. A bias is a shift; an inference BatchNorm is a
/// scale and shift (`BatchNorm.fold`); either may be absent. With `slopes` (a PReLU, one
/// slope per channel), `y = v > 0 ? v : v * slopes[c]` follows instead of `activation`,
/// which must then be `.identity`.
struct Epilogue {
    var scale: FloatStorage?
    var shift: FloatStorage?
    var activation: Activation
    var slopes: FloatStorage? = nil

    static let none = Epilogue(scale: nil, shift: nil, activation: .identity)

    var isIdentity: Bool { scale == nil && shift == nil && activation == .identity && slopes == nil }

    /// Applies the epilogue to every channel row of `map`.
    func apply(to map: FeatureMap) {
        guard !isIdentity else { return }
        let n = map.row
        parallelFor(map.channels, costPerItem: n) { c in
            apply(channel: c, map.channel(c), count: n)
        }
    }

    /// Applies the epilogue of channel `c` to `count` floats at `y`.
    @inline(__always)
    func apply(channel c: Int, _ y: UnsafeMutablePointer<Float>, count n: Int) {
        let s = scale?.pointer[c] ?? 1
        let b = shift?.pointer[c] ?? 0
        if let slopes {
            let a = slopes.pointer[c]
            for i in 0..<n { let v = y[i] * s + b; y[i] = v > 0 ? v : v * a }
            return
        }
        switch activation {
        case .identity:
            if scale == nil { for i in 0..<n { y[i] += b } } else { for i in 0..<n { y[i] = y[i] * s + b } }
        case .relu:
            if scale == nil {
                for i in 0..<n { let v = y[i] + b; y[i] = v > 0 ? v : 0 }
            } else {
                for i in 0..<n { let v = y[i] * s + b; y[i] = v > 0 ? v : 0 }
            }
        case .relu6:
            for i in 0..<n { y[i] = min(max(y[i] * s + b, 0), 6) }
        case let .leakyReLU(slope):
            for i in 0..<n { let v = y[i] * s + b; y[i] = v > 0 ? v : v * slope }
        case .sigmoid:
            for i in 0..<n { y[i] = sigmoid(y[i] * s + b) }
        }
    }
}

/// Inference-mode batch normalisation, `(x - mean) / sqrt(var + eps) * gamma + beta`, folded
/// once at load into a per-channel scale and shift for `Epilogue`.
enum BatchNorm {
    static func fold(gamma: [Float], beta: [Float], mean: [Float], variance: [Float], eps: Float) throws
        -> (scale: FloatStorage, shift: FloatStorage)
    {
        let n = gamma.count
        var scale = [Float](repeating: 0, count: n)
        var shift = [Float](repeating: 0, count: n)
        for c in 0..<n {
            // torch: (x - mean) / sqrt(var + eps) * weight + bias, in float32.
            let inv = 1 / (variance[c] + eps).squareRoot()
            scale[c] = inv * gamma[c]
            shift[c] = beta[c] - mean[c] * scale[c]
        }
        return (try FloatStorage(scale), try FloatStorage(shift))
    }
}
