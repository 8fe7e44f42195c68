/// Reductions of the voice encoder's head.
enum Reductions {
    /// Mean over time of a `[channels, length]` map into `out[channels]`
    /// (torch's `avg_pool1d` over the whole length).
    static func timeMean(_ x: UnsafePointer<Float>, channels: Int, length: Int, into out: UnsafeMutablePointer<Float>) {
        for c in 0..<channels {
            out[c] = sumAndMax(x + c * length, count: length).sum / Float(length)
        }
    }

    /// In-place `x / max(‖x‖₂, eps)` (torch's `F.normalize`, eps 1e-12).
    static func l2Normalize(_ x: UnsafeMutablePointer<Float>, count: Int, eps: Float = 1e-12) {
        var squares: Float = 0
        for i in 0..<count { squares += x[i] * x[i] }
        let norm = max(squares.squareRoot(), eps)
        for i in 0..<count { x[i] /= norm }
    }
}
