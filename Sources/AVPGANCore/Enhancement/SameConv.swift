/// A k x k convolution of one image `[C, H, W]` with stride 1 and zero padding k / 2 (the
/// only kind GFPGAN has), as OpenBLAS GEMMs over tiles of output rows: each tile gathers its
/// im2col block `[C k k, rows W]` into its thread's scratch and multiplies the weights
/// `[O, C k k]` by it (a 1x1 convolution multiplies the input rows directly).
///
/// The tiles, and the blocks of output channels that small maps are split into, depend on the
/// shapes only, and each output value is one GEMM dot product whichever thread computes it,
/// so results are the same bytes at any thread count.
enum SameConv {
    /// Floats of im2col scratch a tile may take (8 MiB).
    static let tileBudget = 2 << 20
    /// Columns of a 1x1 convolution's tile.
    static let pointwiseColumns = 8192

    /// What follows the GEMM on the tile: `(channel, plane, pixels)` with `plane` the output
    /// channel's `[H W]` plane and `pixels` the range of it that the tile wrote.
    typealias Epilogue = (Int, UnsafeMutablePointer<Float>, Range<Int>) -> Void

    /// Rows per tile for an input of `channels` x `width` and a k x k kernel.
    static func tileRows(channels: Int, width: Int, height: Int, kernel k: Int) -> Int {
        let perRow = k == 1 ? width : channels * k * k * width
        let budget = k == 1 ? pointwiseColumns : tileBudget
        return max(1, min(height, budget / max(perRow, 1)))
    }

    /// Floats of scratch `forward` takes for these shapes on up to `threads` threads.
    static func scratchCount(channels: Int, width: Int, height: Int, kernel k: Int, threads: Int) -> Int {
        guard k > 1 else { return 0 }
        return threads * channels * k * k * width * tileRows(channels: channels, width: width, height: height, kernel: k)
    }

    /// `out[O, H, W] = epilogue(weights * im2col(input))`, or `out += weights * im2col(input)`
    /// with `accumulate` (then applied before `epilogue`). `weights[O, C k k]` row-major,
    /// `input` must not alias `out`, `scratch` at least `scratchCount` floats for the same
    /// `threads` (read once by the caller: the process-wide count may change meanwhile).
    static func forward(weights: UnsafePointer<Float>, outChannels: Int, kernel k: Int,
                        input: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
                        into out: UnsafeMutablePointer<Float>, accumulate: Bool = false, threads maxThreads: Int,
                        scratch: UnsafeMutablePointer<Float>, epilogue: Epilogue? = nil) {
        let plane = height * width, depth = channels * k * k
        let rows = tileRows(channels: channels, width: width, height: height, kernel: k)
        let tiles = (height + rows - 1) / rows
        // One tile (a small map): split the output channels in two, so both threads have work.
        // No more than that: every block packs the tile's whole im2col block again, and with up
        // to 8 items per map the forward and dX GEMMs of the enhancer's 16–128-channel layers ran
        // at 47–76 GFLOP/s at one thread against 65–111 as one GEMM (SkylakeX kernels, measured
        // in C on those shapes).
        let blocks = tiles >= 2 ? 1 : max(1, min(2, outChannels / 16))
        let items = tiles * blocks
        let threads = max(1, min(maxThreads, items))
        let perThread = k == 1 ? 0 : depth * rows * width
        let cost = 2 * outChannels * depth * plane / threads
        // Items go to whichever thread is free (on a shared machine a descheduled thread
        // would hold up a static split); which thread computes an item does not change it.
        let queue = WorkQueue(count: items)
        parallelFor(threads, costPerItem: cost) { t in
            let cols = scratch + t * perThread
            var gathered = -1
            while let item = queue.next() {
                let tile = item / blocks, block = item % blocks
                let r0 = tile * rows, r1 = min(height, r0 + rows)
                let n = (r1 - r0) * width
                let o0 = outChannels * block / blocks, o1 = outChannels * (block + 1) / blocks
                let b: UnsafePointer<Float>, ldb: Int
                if k == 1 {
                    b = input + r0 * width
                    ldb = plane
                } else {
                    if gathered != tile { gather(input, channels: channels, height: height, width: width, kernel: k, rows: r0..<r1, into: cols) }
                    gathered = tile
                    b = UnsafePointer(cols)
                    ldb = n
                }
                BLAS.gemm(m: o1 - o0, n: n, k: depth, a: weights + o0 * depth, lda: depth, b: b, ldb: ldb,
                          beta: accumulate ? 1 : 0, c: out + o0 * plane + r0 * width, ldc: plane)
                if let epilogue {
                    for o in o0..<o1 { epilogue(o, out + o * plane, (r0 * width)..<(r1 * width)) }
                }
            }
        }
    }

    /// im2col of output rows `rows`: row `(c, i, j)` of `cols[C k k, rows W]` holds the input
    /// under tap (i, j) of channel c for every output pixel of the tile (0 in the padding).
    static func gather(_ x: UnsafePointer<Float>, channels: Int, height: Int, width: Int, kernel k: Int,
                       rows: Range<Int>, into cols: UnsafeMutablePointer<Float>) {
        let pad = k / 2, n = rows.count * width
        for c in 0..<channels {
            let image = x + c * height * width
            for i in 0..<k {
                for j in 0..<k {
                    var dst = cols + ((c * k + i) * k + j) * n
                    let shift = j - pad
                    let lo = max(0, -shift), hi = min(width, width - shift)
                    for oh in rows {
                        let ih = oh - pad + i
                        if ih < 0 || ih >= height {
                            dst.update(repeating: 0, count: width)
                        } else {
                            let src = image + ih * width + shift
                            if lo > 0 { dst.update(repeating: 0, count: lo) }
                            (dst + lo).update(from: src + lo, count: hi - lo)
                            if hi < width { (dst + hi).update(repeating: 0, count: width - hi) }
                        }
                        dst += width
                    }
                }
            }
        }
    }
}

/// Hands out `0..<count` one index at a time to concurrent takers.
final class WorkQueue: @unchecked Sendable {
    private let count: Int
    private var taken = 0
    private let mutex = PThreadMutex()

    init(count: Int) { self.count = count }

    /// The next untaken index, or nil when all are taken.
    func next() -> Int? {
        mutex.lock()
        defer { mutex.unlock() }
        guard taken < count else { return nil }
        taken += 1
        return taken - 1
    }
}
