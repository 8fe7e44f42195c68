/// Reverse mode of `Bilinear.resize` (f = 2 or 0.5, align_corners false): every output sample
/// is `Σ h_r w_q x[r, q]` over its two rows r and two columns q, so its gradient goes back to
/// those four inputs with the same weights. Row by row: the output row's gradient is first
/// spread over the input columns (`w`), then added to its two input rows (`h`).
extension Bilinear {
    /// Floats of scratch `backward` takes for an input `width` wide on up to `threads` threads.
    static func backwardScratchCount(width: Int, threads: Int) -> Int { threads * width }

    /// `dx[C, H, W]` (OVERWRITTEN) from `dy[C, H f, W f]`, for the `resize` of an input
    /// `channels x height x width`. The channels are split over up to `threads` threads, each
    /// channel computed whole by one of them, so the result does not depend on the split.
    static func backward(_ dy: UnsafePointer<Float>, channels: Int, height: Int, width: Int, up: Bool, threads maxThreads: Int,
                         into dx: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        let plan = Plan(height: height, width: width, up: up)
        let outH = plan.outH, outW = plan.outW, down = plan.down
        let threads = max(1, min(maxThreads, channels))
        plan.across.withTaps { x0, x1, a0, a1 in
            parallelFor(threads, costPerItem: channels * outH * outW * 8 / threads) { t in
                let spread = scratch + t * width
                for c in (channels * t / threads)..<(channels * (t + 1) / threads) {
                    let source = dy + c * outH * outW, target = dx + c * height * width
                    target.update(repeating: 0, count: height * width)
                    for y in 0..<outH {
                        let row = source + y * outW
                        spread.update(repeating: 0, count: width)
                        for x in 0..<outW {
                            spread[x0[x]] += row[x] * a0[x]
                            spread[x1[x]] += row[x] * a1[x]
                        }
                        let top = target + down.first[y] * width, bottom = target + down.second[y] * width
                        let h0 = down.w0[y], h1 = down.w1[y]
                        for q in 0..<width { top[q] += spread[q] * h0 }
                        for q in 0..<width { bottom[q] += spread[q] * h1 }
                    }
                }
            }
        }
    }
}
