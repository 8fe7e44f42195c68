#if canImport(Glibc)
import Glibc
#endif

/// Pointwise nonlinearities of the networks.
enum Activation: Equatable {
    case identity
    case relu
    case relu6
    case leakyReLU(slope: Float)
    case sigmoid

    @inline(__always)
    func callAsFunction(_ x: Float) -> Float {
        switch self {
        case .identity: return x
        case .relu: return x > 0 ? x : 0
        case .relu6: return min(max(x, 0), 6)
        case let .leakyReLU(slope): return x > 0 ? x : x * slope
        case .sigmoid: return AVPGANCore.sigmoid(x)
        }
    }
}

/// 1 / (1 + e^-x), accurate to float rounding over the whole range.
@inline(__always)
func sigmoid(_ x: Float) -> Float { 1 / (1 + expf(-x)) }
