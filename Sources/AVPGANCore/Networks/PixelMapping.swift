/// How a 3 x S x S generator output in [-1, 1] becomes 8-bit pixels (include/avpgan.h).
public enum PixelMapping: String, CaseIterable, Sendable {
    case clamp, minmax
}

extension PixelMapping {
    /// Maps one planar image `chw[3, S, S]` to interleaved 8-bit RGB `hwc[S, S, 3]` as
    /// include/avpgan.h defines the mapping (float32 arithmetic, rounding half up). Total: a NaN
    /// (which validated inputs cannot produce, but overflow could) maps like -1.
    func apply(_ chw: UnsafePointer<Float>, size: Int, into hwc: UnsafeMutablePointer<UInt8>) {
        let plane = size * size
        @inline(__always) func clamped(_ x: Float) -> Float { x.isNaN ? -1 : min(max(x, -1), 1) }
        switch self {
        case .clamp:
            for c in 0..<3 {
                let src = chw + c * plane
                for p in 0..<plane { hwc[p * 3 + c] = UInt8(((clamped(src[p]) + 1) / 2 * 255 + 0.5).rounded(.down)) }
            }
        case .minmax:
            var lo = Float.infinity, hi = -Float.infinity
            for i in 0..<(3 * plane) { let v = clamped(chw[i]); lo = min(lo, v); hi = max(hi, v) }
            let range = max(hi - lo, 1e-5)
            for c in 0..<3 {
                let src = chw + c * plane
                for p in 0..<plane {
                    let q = ((clamped(src[p]) - lo) / range * 255 + 0.5).rounded(.down)
                    hwc[p * 3 + c] = UInt8(min(max(q, 0), 255))
                }
            }
        }
    }
}
