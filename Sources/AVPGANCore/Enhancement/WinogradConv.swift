/// A 3x3 convolution of one image `[C, H, W]` (stride 1, zero padding 1, H and W even) by
/// Winograd's F(2x2, 3x3) algorithm (Lavin & Gray 2016): each 2x2 block of output pixels is
/// `Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A` of its 4x4 input patch d, so the channel sums become 16
/// OpenBLAS GEMMs `[O, C] x [C, tiles]` with 2.25x fewer multiplications than im2col.
/// The transforms use only 0, ±1 and ±1/2: the result differs from the direct sum by a few
/// float rounding errors.
///
/// Like `SameConv`, the work is split into tiles of output rows (and, for small maps, blocks
/// of output channels) that depend on the shapes only, taken from a shared queue; each output
/// value is computed the same way whichever thread computes it, so results are the same bytes
/// at any thread count.
enum WinogradConv {
    /// Floats of transformed input and products a tile may take (16 MiB).
    static let tileBudget = 4 << 20

    /// `u[16, O, C]` (component-major) of 3x3 weights `w[O, C, 3, 3]`: `G g Gᵀ` per filter.
    static func transformWeights(_ w: UnsafePointer<Float>, outChannels: Int, inChannels: Int,
                                 into u: UnsafeMutablePointer<Float>) {
        let pairs = outChannels * inChannels
        parallelFor(outChannels, costPerItem: 40 * inChannels) { o in
            for c in 0..<inChannels {
                let g = w + (o * inChannels + c) * 9
                let dst = u + o * inChannels + c
                // G g (rows g0, (g0 + g1 + g2) / 2, (g0 - g1 + g2) / 2, g2), then the same
                // combinations of each resulting row's three values: (G g) Gᵀ.
                @inline(__always) func row(_ a: Int, _ h0: Float, _ h1: Float, _ h2: Float) {
                    dst[(a * 4) * pairs] = h0
                    dst[(a * 4 + 1) * pairs] = (h0 + h1 + h2) * 0.5
                    dst[(a * 4 + 2) * pairs] = (h0 - h1 + h2) * 0.5
                    dst[(a * 4 + 3) * pairs] = h2
                }
                row(0, g[0], g[1], g[2])
                row(1, (g[0] + g[3] + g[6]) * 0.5, (g[1] + g[4] + g[7]) * 0.5, (g[2] + g[5] + g[8]) * 0.5)
                row(2, (g[0] - g[3] + g[6]) * 0.5, (g[1] - g[4] + g[7]) * 0.5, (g[2] - g[5] + g[8]) * 0.5)
                row(3, g[6], g[7], g[8])
            }
        }
    }

    /// Tile rows (pairs of output rows) per tile.
    static func tileRows(outChannels: Int, channels: Int, height: Int, width: Int) -> Int {
        let perRow = 16 * (channels + outChannels) * (width / 2)
        return max(1, min(height / 2, tileBudget / max(perRow, 1)))
    }

    /// Floats of scratch `forward` takes for these shapes on up to `threads` threads.
    static func scratchCount(outChannels: Int, channels: Int, height: Int, width: Int, threads: Int) -> Int {
        let rows = tileRows(outChannels: outChannels, channels: channels, height: height, width: width)
        return threads * (16 * (channels + outChannels) * rows * (width / 2) + 8 * (width + 2))
    }

    /// `out[O, H, W] = epilogue(conv3x3(input))` (plus `out`'s prior contents with
    /// `accumulate`), for transformed weights `u[16, O, C]`. `input` must not alias `out`;
    /// `scratch` at least `scratchCount` floats for the same `threads`.
    static func forward(weights u: UnsafePointer<Float>, outChannels: Int, input: UnsafePointer<Float>, channels: Int,
                        height: Int, width: Int, into out: UnsafeMutablePointer<Float>, accumulate: Bool = false,
                        threads maxThreads: Int, scratch: UnsafeMutablePointer<Float>, epilogue: SameConv.Epilogue? = nil) {
        precondition(height % 2 == 0 && width % 2 == 0, "Winograd F(2x2, 3x3) needs even sides")
        let plane = height * width, across = width / 2
        let rows = tileRows(outChannels: outChannels, channels: channels, height: height, width: width)
        let tiles = (height / 2 + rows - 1) / rows
        let blocks = tiles >= 8 ? 1 : max(1, min((8 + tiles - 1) / tiles, outChannels / 16))
        let items = tiles * blocks
        let threads = max(1, min(maxThreads, items))
        let perThread = 16 * (channels + outChannels) * rows * across + 8 * (width + 2)
        let pairs = outChannels * channels
        let queue = WorkQueue(count: items)
        parallelFor(threads, costPerItem: 2 * outChannels * channels * plane * 4 / threads) { t in
            let v = scratch + t * perThread
            let m = v + 16 * channels * rows * across
            let rowsScratch = m + 16 * outChannels * rows * across
            var transformed = -1
            while let item = queue.next() {
                let tile = item / blocks, block = item % blocks
                let ty0 = tile * rows, ty1 = min(height / 2, ty0 + rows)
                let n = (ty1 - ty0) * across
                let o0 = outChannels * block / blocks, o1 = outChannels * (block + 1) / blocks
                if transformed != tile {
                    transformInput(input, channels: channels, height: height, width: width, tileRows: ty0..<ty1,
                                   rowScratch: rowsScratch, into: v)
                    transformed = tile
                }
                for xi in 0..<16 {
                    BLAS.gemm(m: o1 - o0, n: n, k: channels, a: u + xi * pairs + o0 * channels, lda: channels,
                              b: v + xi * channels * n, ldb: n, c: m + xi * (o1 - o0) * n, ldc: n)
                }
                for o in o0..<o1 {
                    transformOutput(m + (o - o0) * n, stride: (o1 - o0) * n, tileRows: ty0..<ty1, width: width,
                                    accumulate: accumulate, into: out + o * plane)
                    epilogue?(o, out + o * plane, (2 * ty0 * width)..<(2 * ty1 * width))
                }
            }
        }
    }

    /// `v[16, C, n]` = `Bᵀ d B` of every 4x4 patch of tile rows `tileRows` (n = rows x W / 2).
    private static func transformInput(_ x: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
                                       tileRows: Range<Int>, rowScratch: UnsafeMutablePointer<Float>,
                                       into v: UnsafeMutablePointer<Float>) {
        let padded = width + 2, across = width / 2, n = tileRows.count * across
        let p = rowScratch, q = rowScratch + 4 * padded  // 4 padded rows, then their Bᵀ combinations
        for c in 0..<channels {
            let image = x + c * height * width
            for ty in tileRows {
                for r in 0..<4 {
                    let y = 2 * ty - 1 + r, row = p + r * padded
                    row[0] = 0
                    row[padded - 1] = 0
                    if y < 0 || y >= height { (row + 1).update(repeating: 0, count: width) } else { (row + 1).update(from: image + y * width, count: width) }
                }
                let p0 = p, p1 = p + padded, p2 = p + 2 * padded, p3 = p + 3 * padded
                let q0 = q, q1 = q + padded, q2 = q + 2 * padded, q3 = q + 3 * padded
                for i in 0..<padded {
                    q0[i] = p0[i] - p2[i]
                    q1[i] = p1[i] + p2[i]
                    q2[i] = p2[i] - p1[i]
                    q3[i] = p1[i] - p3[i]
                }
                let column = (ty - tileRows.lowerBound) * across
                for a in 0..<4 {
                    let qa = q + a * padded
                    let base = v + (a * 4) * channels * n + c * n + column
                    let step = channels * n
                    // Eight patches at a time: the even and odd lanes of qa[2tx ..< 2tx + 16] are
                    // columns 0 and 1 of patches tx ..< tx + 8, those of qa[2tx + 2 ..< 2tx + 18]
                    // columns 2 and 3 (the padded row holds 2 across + 2 values).
                    var tx = 0
                    while tx + 8 <= across {
                        let lo = UnsafeRawPointer(qa + 2 * tx).loadUnaligned(as: SIMD16<Float>.self)
                        let hi = UnsafeRawPointer(qa + 2 * tx + 2).loadUnaligned(as: SIMD16<Float>.self)
                        let e0 = lo.evenHalf, e1 = lo.oddHalf, e2 = hi.evenHalf, e3 = hi.oddHalf
                        UnsafeMutableRawPointer(base + tx).storeBytes(of: e0 - e2, as: SIMD8<Float>.self)
                        UnsafeMutableRawPointer(base + step + tx).storeBytes(of: e1 + e2, as: SIMD8<Float>.self)
                        UnsafeMutableRawPointer(base + 2 * step + tx).storeBytes(of: e2 - e1, as: SIMD8<Float>.self)
                        UnsafeMutableRawPointer(base + 3 * step + tx).storeBytes(of: e1 - e3, as: SIMD8<Float>.self)
                        tx += 8
                    }
                    while tx < across {
                        let e0 = qa[2 * tx], e1 = qa[2 * tx + 1], e2 = qa[2 * tx + 2], e3 = qa[2 * tx + 3]
                        base[tx] = e0 - e2
                        base[step + tx] = e1 + e2
                        base[2 * step + tx] = e2 - e1
                        base[3 * step + tx] = e1 - e3
                        tx += 1
                    }
                }
            }
        }
    }

    /// Output rows of tile rows `tileRows` of one channel from its 16 products `m[16][n]`
    /// (component k at `m + k * stride`): `Aᵀ m A` per 2x2 block.
    private static func transformOutput(_ m: UnsafePointer<Float>, stride: Int, tileRows: Range<Int>, width: Int,
                                        accumulate: Bool, into plane: UnsafeMutablePointer<Float>) {
        let across = width / 2
        for ty in tileRows {
            let column = (ty - tileRows.lowerBound) * across
            let top = plane + 2 * ty * width, bottom = top + width
            @inline(__always) func at(_ k: Int, _ tx: Int) -> Float { m[k * stride + column + tx] }
            @inline(__always) func vec(_ k: Int, _ tx: Int) -> SIMD8<Float> {
                UnsafeRawPointer(m + k * stride + column + tx).loadUnaligned(as: SIMD8<Float>.self)
            }
            // Eight blocks at a time; a block's two columns interleave into the rows.
            var first = 0
            while first + 8 <= across {
                let tx = first
                let s00 = vec(0, tx) + vec(4, tx) + vec(8, tx), s01 = vec(1, tx) + vec(5, tx) + vec(9, tx)
                let s02 = vec(2, tx) + vec(6, tx) + vec(10, tx), s03 = vec(3, tx) + vec(7, tx) + vec(11, tx)
                let s10 = vec(4, tx) - vec(8, tx) - vec(12, tx), s11 = vec(5, tx) - vec(9, tx) - vec(13, tx)
                let s12 = vec(6, tx) - vec(10, tx) - vec(14, tx), s13 = vec(7, tx) - vec(11, tx) - vec(15, tx)
                var upper = SIMD16<Float>(), lower = SIMD16<Float>()
                upper.evenHalf = s00 + s01 + s02
                upper.oddHalf = s01 - s02 - s03
                lower.evenHalf = s10 + s11 + s12
                lower.oddHalf = s11 - s12 - s13
                let t = UnsafeMutableRawPointer(top + 2 * tx), b = UnsafeMutableRawPointer(bottom + 2 * tx)
                if accumulate {
                    upper += t.loadUnaligned(as: SIMD16<Float>.self)
                    lower += b.loadUnaligned(as: SIMD16<Float>.self)
                }
                t.storeBytes(of: upper, as: SIMD16<Float>.self)
                b.storeBytes(of: lower, as: SIMD16<Float>.self)
                first += 8
            }
            for tx in first..<across {
                // Rows: s0 = m0 + m1 + m2, s1 = m1 - m2 - m3 (over a), for each b.
                let s00 = at(0, tx) + at(4, tx) + at(8, tx), s01 = at(1, tx) + at(5, tx) + at(9, tx)
                let s02 = at(2, tx) + at(6, tx) + at(10, tx), s03 = at(3, tx) + at(7, tx) + at(11, tx)
                let s10 = at(4, tx) - at(8, tx) - at(12, tx), s11 = at(5, tx) - at(9, tx) - at(13, tx)
                let s12 = at(6, tx) - at(10, tx) - at(14, tx), s13 = at(7, tx) - at(11, tx) - at(15, tx)
                let y00 = s00 + s01 + s02, y01 = s01 - s02 - s03
                let y10 = s10 + s11 + s12, y11 = s11 - s12 - s13
                if accumulate {
                    top[2 * tx] += y00; top[2 * tx + 1] += y01
                    bottom[2 * tx] += y10; bottom[2 * tx + 1] += y11
                } else {
                    top[2 * tx] = y00; top[2 * tx + 1] = y01
                    bottom[2 * tx] = y10; bottom[2 * tx + 1] = y11
                }
            }
        }
    }
}
