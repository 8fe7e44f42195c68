import CKernels

/// ConvTranspose2d with kernel 4, stride 2, padding 1 (the generator's upsampling layers) without
/// col2im, and with 0.56x the multiplications of its GEMM.
///
/// Sub-pixel decomposition: output pixel `(2a + py, 2b + px)` only ever meets kernel rows
/// `3 - py - 2t` at input row `a + py - 1 + t` (t = 0, 1), and likewise for columns, so each of
/// the four output parities `(py, px)` is a 2x2 convolution of the input (zero outside) with the
/// sub-kernel `g[t][s] = W[c, o, 3 - py - 2t, 3 - px - 2s]`. Each parity is computed by
/// Winograd's F(2x2, 2x2): a 2x2 block of that parity's outputs is `Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A`
/// of its 3x3 input patch d, with
///
///     Bᵀ = [1 -1 0; 0 1 0; 0 -1 1],  G = [1 0; 1 1; 0 1],  Aᵀ = [1 1 0; 0 1 1]
///
/// (interpolation points 0, 1 and infinity: every coefficient is 0 or ±1, so the result differs
/// from the direct sum by a few float roundings). The channel sums become 9 GEMMs
/// `[O, C] x [C, tiles]` per parity: 36 products of C x O per 2x2 input block against the 64
/// of `ConvTranspose2d`'s GEMM.
///
/// Layouts: the input and output are `FeatureMap`s (CNHW, views allowed); weights in two parts
/// (`Weights`), each component `[C][O]` (read transposed, as col2im's GEMM reads the file's
/// weights): `taps[16 (ky * 4 + kx)]`, the kernel regrouped by tap, which are the corner
/// components 0, 2, 6, 8 of `G g Gᵀ` (the sub-kernel's own values) and all the col2im way needs
/// (`col2imColumns`), and `extras[4 parities (py * 2 + px)][5]`, its components 1, 3, 4, 5, 7
/// (sums of taps), made only for the Winograd way; scratch per parity
/// `v[9][C][tiles]` then `m[9][O][tiles]` (each component `componentGap` floats beyond the
/// last), tiles ordered (image, tile row, tile column).
/// Results do not depend on the thread count: the transforms are element-wise and the GEMMs are
/// split into blocks by size only (`blocks`).
enum SubPixelWinograd {
    /// True when the transforms take the AVX-512 kernels of `Sources/CKernels/subpixel_avx512.c`
    /// (bit-identical to the Swift code below, which other CPUs run).
    static let vectorised = avpk_avx512_available() != 0

    /// True for the geometry this kernel computes.
    static func handles(_ g: ConvGeometry) -> Bool { g == .square(4, stride: 2, padding: 1) }

    /// Floats of `Weights.taps` and of `Weights.extras` for `inChannels x outChannels`.
    static func tapCount(inChannels: Int, outChannels: Int) -> Int { 16 * inChannels * outChannels }
    static func extraCount(inChannels: Int, outChannels: Int) -> Int { 20 * inChannels * outChannels }

    /// The weights as this kernel reads them (see the type's doc); `extras` nil: col2im way only.
    struct Weights {
        let taps: UnsafePointer<Float>
        let extras: UnsafePointer<Float>?
        let inChannels: Int
        let outChannels: Int

        /// Component `xi` (0..<9, row-major 3x3) of `G g Gᵀ` for parity `(py, px)`, `[C][O]`.
        func component(py: Int, px: Int, _ xi: Int) -> UnsafePointer<Float> {
            let pairs = inChannels * outChannels
            let (row, column) = (xi / 3, xi % 3)
            if row != 1 && column != 1 {
                let (t, s) = (row / 2, column / 2)
                return taps + ((3 - py - 2 * t) * 4 + 3 - px - 2 * s) * pairs
            }
            precondition(extras != nil, "sub-pixel Winograd: components of G g Gᵀ not made")
            let extra = xi == 1 ? 0 : xi == 7 ? 4 : xi - 2  // components 1, 3, 4, 5, 7
            return extras! + ((py * 2 + px) * 5 + extra) * pairs
        }
    }

    /// `taps[ky * 4 + kx][c][o] = w[c][o][ky][kx]` (the file's ConvTranspose2d weights). One
    /// run of `O` floats at a time: the 16 taps' blocks lie a multiple of 4 KiB apart, and
    /// writing them in step (one float to each in turn) missed the cache on every store.
    static func splitTaps(_ w: UnsafePointer<Float>, inChannels: Int, outChannels: Int, into taps: UnsafeMutablePointer<Float>) {
        let pairs = outChannels * inChannels
        parallelFor(inChannels, costPerItem: 32 * outChannels) { c in
            let row = w + c * outChannels * 16
            for tap in 0..<16 {
                let dst = taps + tap * pairs + c * outChannels
                for o in 0..<outChannels { dst[o] = row[o * 16 + tap] }
            }
        }
    }

    /// `extras` from `taps`: per parity, with `g(t, s)` its sub-kernel, `G g Gᵀ` has rows
    /// `[g00, g00 + g01, g01]`, `[g00 + g10, (g00 + g10) + (g01 + g11), g01 + g11]`,
    /// `[g10, g10 + g11, g11]`; the five sums are written, element-wise over `[C][O]`, one
    /// output run at a time (as in `splitTaps`).
    static func makeExtras(taps: UnsafePointer<Float>, inChannels: Int, outChannels: Int, into extras: UnsafeMutablePointer<Float>) {
        let pairs = outChannels * inChannels
        for parity in 0..<4 {
            let (py, px) = (parity / 2, parity % 2)
            func g(_ t: Int, _ s: Int) -> UnsafePointer<Float> { taps + ((3 - py - 2 * t) * 4 + 3 - px - 2 * s) * pairs }
            let (g00, g01, g10, g11) = (g(0, 0), g(0, 1), g(1, 0), g(1, 1))
            let e = extras + parity * 5 * pairs
            parallelFor(inChannels, costPerItem: 6 * outChannels) { c in
                let first = c * outChannels
                @inline(__always) func sum(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into d: UnsafeMutablePointer<Float>) {
                    for i in first..<first + outChannels { d[i] = a[i] + b[i] }
                }
                sum(g00, g01, into: e)
                sum(g00, g10, into: e + pairs)
                sum(g01, g11, into: e + 3 * pairs)
                sum(e + pairs, e + 3 * pairs, into: e + 2 * pairs)
                sum(g10, g11, into: e + 4 * pairs)
            }
        }
    }

    /// Floats of scratch a forward over `batch` images of `h x w` (both even) needs.
    static func scratchCount(inChannels: Int, outChannels: Int, batch: Int, h: Int, w: Int) -> Int {
        9 * ((inChannels + outChannels) * batch * (h / 2) * (w / 2) + 2 * componentGap)
    }

    /// Floats between one component's block of scratch and the next beyond its size, so that
    /// the nine streams a transform reads or writes at once do not sit a multiple of 4 KiB apart
    /// (a precaution against L1 set conflicts: no difference measured on the Zen 3 machine).
    static let componentGap = 40

    /// The col2im way's GEMM from `taps`: `cols[o * 16 + tap][column] = sum_c W[c, o, tap]
    /// x[c, column]` over the input's `batch * h * w` columns, as `ConvTranspose2d`'s GEMM
    /// writes them, in 16 GEMMs `[O, C] x [C, columns]`, one per tap, spread over the threads
    /// (blocks of output channels would give 16 GEMMs per block, each packing the input again).
    /// Up to `NarrowGEMM.maximumColumns` columns (the 4x4 layer at batch 1) each GEMM reads its
    /// tap's weights as they lie, without OpenBLAS's repacking (`NarrowGEMM`).
    /// The same whether or not `extras` exist, so a layer's col2im results do not depend on
    /// the calls made before.
    static func col2imColumns(taps: UnsafePointer<Float>, inChannels: Int, outChannels: Int,
                              _ input: FeatureMap, into cols: UnsafeMutablePointer<Float>) {
        let n = input.row, pairs = outChannels * inChannels
        parallelFor(16, costPerItem: 2 * pairs * n) { tap in
            NarrowGEMM.gemmTN(m: outChannels, n: n, k: inChannels, a: taps + tap * pairs, lda: outChannels,
                              b: input.data, ldb: input.stride, c: cols + tap * n, ldc: 16 * n)
        }
    }

    /// `out = epilogue(convT(input))`; `u` with its `extras`, `input.height` and `input.width`
    /// even, `out` of `2h x 2w`, `scratch` at least `scratchCount` floats; `vectorised` as the type's
    /// (false: the Swift transforms, for comparing the two).
    static func forward(weights u: Weights, _ input: FeatureMap, into out: FeatureMap, epilogue: Epilogue,
                        scratch: UnsafeMutablePointer<Float>, vectorised: Bool = vectorised) {
        let (inChannels, outChannels) = (u.inChannels, u.outChannels)
        precondition(input.height % 2 == 0 && input.width % 2 == 0, "sub-pixel Winograd needs even input sides")
        let tiles = input.batch * (input.height / 2) * (input.width / 2)
        let vStride = inChannels * tiles + componentGap, mStride = outChannels * tiles + componentGap
        let v = scratch, m = scratch + 9 * vStride
        let (oBlocks, tileBlocks) = blocks(outChannels: outChannels, tiles: tiles)
        for parity in 0..<4 {
            let (py, px) = (parity / 2, parity % 2)
            parallelFor(inChannels, costPerItem: 12 * tiles) { c in
                transformInput(input, channel: c, py: py, px: px, tiles: tiles, into: v, stride: vStride, vectorised: vectorised)
            }
            parallelFor(oBlocks * tileBlocks, costPerItem: Int.max) { block in
                let (ob, tb) = (block / tileBlocks, block % tileBlocks)
                let o0 = outChannels * ob / oBlocks, o1 = outChannels * (ob + 1) / oBlocks
                let t0 = tiles * tb / tileBlocks, t1 = tiles * (tb + 1) / tileBlocks
                for xi in 0..<9 {
                    BLAS.gemm(transA: true, m: o1 - o0, n: t1 - t0, k: inChannels, a: u.component(py: py, px: px, xi) + o0,
                              lda: outChannels, b: v + xi * vStride + t0, ldb: tiles,
                              c: m + xi * mStride + o0 * tiles + t0, ldc: tiles)
                }
                for o in o0..<o1 {
                    transformOutput(m + o * tiles, stride: mStride, tiles: t0..<t1, py: py, px: px, into: out, channel: o,
                                    vectorised: vectorised)
                }
            }
        }
        if !epilogue.isIdentity {
            parallelFor(outChannels, costPerItem: out.row) { o in epilogue.apply(channel: o, out.channel(o), count: out.row) }
        }
    }

    /// How the GEMMs of a parity are split: output channels in blocks of at least 128 rows (at
    /// most 4), tiles in blocks of at least 512 columns, at most 16 blocks in all, and two
    /// blocks of rows rather than one block when there are 128 rows or more (narrower GEMMs
    /// spend their time packing). From the shapes alone, so that every GEMM has the same shape
    /// at any thread count.
    static func blocks(outChannels: Int, tiles: Int) -> (outChannels: Int, tiles: Int) {
        var oBlocks = max(1, min(4, outChannels / 128))
        let tileBlocks = max(1, min(16 / oBlocks, tiles / 512))
        if oBlocks * tileBlocks == 1 && outChannels >= 128 { oBlocks = 2 }
        return (oBlocks, tileBlocks)
    }

    /// Images whose forward fits in `budget` floats of scratch (at least 1, at most `batch`).
    static func imagesWithin(_ budget: Int, inChannels: Int, outChannels: Int, batch: Int, h: Int, w: Int) -> Int {
        let perImage = 9 * (inChannels + outChannels) * (h / 2) * (w / 2)
        return max(1, min(batch, (budget - 18 * componentGap) / max(perImage, 1)))
    }

    /// `v[xi][c][tile] = (Bᵀ d B)[xi]` of every 3x3 patch of channel `c` for parity `(py, px)`:
    /// the patch of tile `(ty, tx)` starts at input row `2 ty + py - 1`, column `2 tx + px - 1`;
    /// component `xi` starts at `v + xi * stride`. `vectorised`: by the AVX-512 kernel (the
    /// same bits; only where `vectorised` is true of the type).
    static func transformInput(_ x: FeatureMap, channel c: Int, py: Int, px: Int, tiles: Int,
                               into v: UnsafeMutablePointer<Float>, stride step: Int, vectorised: Bool) {
        let (h, w) = (x.height, x.width), across = w / 2, down = h / 2
        if vectorised {
            avpk_subpixel_input_avx512(x.channel(c), x.plane, Int32(x.batch), Int32(h), Int32(w), Int32(py), Int32(px),
                                       v + c * tiles, step)
            return
        }
        let padded = w + 4  // a zero, the row, then zeros that the four-patch reads may reach
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 6 * padded) { buffer in
            let p = buffer.baseAddress!, q = p + 3 * padded
            p.initialize(repeating: 0, count: 3 * padded)
            for b in 0..<x.batch {
                let image = UnsafePointer(x.channel(c) + b * x.plane)
                for ty in 0..<down {
                    for r in 0..<3 {
                        let y = 2 * ty + py - 1 + r, row = p + r * padded + 1
                        if y < 0 || y >= h { row.update(repeating: 0, count: w) } else { row.update(from: image + y * w, count: w) }
                    }
                    let p0 = p, p1 = p + padded, p2 = p + 2 * padded
                    for i in 0..<padded {
                        q[i] = p0[i] - p1[i]
                        q[padded + i] = p1[i]
                        q[2 * padded + i] = p2[i] - p1[i]
                    }
                    let column = (b * down + ty) * across
                    for a in 0..<3 {
                        let qa = q + a * padded + px
                        let base = v + (a * 3) * step + c * tiles + column
                        // Four patches at a time (the build targets baseline x86-64: SSE, four
                        // lanes; lanes gathered one by one, as SIMD's evenHalf and oddHalf are
                        // generic code, ten times slower).
                        var tx = 0
                        while tx + 4 <= across {
                            let r = qa + 2 * tx
                            let e0 = SIMD4(r[0], r[2], r[4], r[6]), e1 = SIMD4(r[1], r[3], r[5], r[7])
                            let e2 = SIMD4(r[2], r[4], r[6], r[8])
                            UnsafeMutableRawPointer(base + tx).storeBytes(of: e0 - e1, as: SIMD4<Float>.self)
                            UnsafeMutableRawPointer(base + step + tx).storeBytes(of: e1, as: SIMD4<Float>.self)
                            UnsafeMutableRawPointer(base + 2 * step + tx).storeBytes(of: e2 - e1, as: SIMD4<Float>.self)
                            tx += 4
                        }
                        while tx < across {
                            let e0 = qa[2 * tx], e1 = qa[2 * tx + 1], e2 = qa[2 * tx + 2]
                            base[tx] = e0 - e1
                            base[step + tx] = e1
                            base[2 * step + tx] = e2 - e1
                            tx += 1
                        }
                    }
                }
            }
        }
    }

    /// Writes parity `(py, px)` of output channel `o` for tiles `tiles` from their products
    /// `m[xi]` (component `xi` at `m + xi * stride`, one value per tile): `Aᵀ m A` per tile, the
    /// block's four values going to output rows `4 ty + py + {0, 2}`, columns `4 tx + px + {0, 2}`.
    /// `vectorised`: by the AVX-512 kernel (as for `transformInput`).
    static func transformOutput(_ m: UnsafePointer<Float>, stride: Int, tiles: Range<Int>, py: Int, px: Int,
                                into out: FeatureMap, channel o: Int, vectorised: Bool) {
        if vectorised {
            avpk_subpixel_output_avx512(m, stride, tiles.lowerBound, tiles.upperBound, Int32(py), Int32(px), out.channel(o),
                                        out.plane, Int32(out.height), Int32(out.width))
            return
        }
        let width = out.width, across = width / 4, down = out.height / 4
        @inline(__always) func vec(_ xi: Int, _ t: Int) -> SIMD4<Float> {
            UnsafeRawPointer(m + xi * stride + t).loadUnaligned(as: SIMD4<Float>.self)
        }
        let channel = out.channel(o)
        var row = tiles.lowerBound / across
        while row * across < tiles.upperBound {
            let (b, ty) = (row / down, row % down)
            let first = row * across
            let top = channel + b * out.plane + (4 * ty + py) * width, bottom = top + 2 * width
            var tx = max(tiles.lowerBound - first, 0)
            let end = min(tiles.upperBound - first, across)
            // Four tiles at a time.
            while tx + 4 <= end {
                let t = first + tx
                let m4 = vec(4, t)
                let a0 = vec(0, t) + vec(3, t), a1 = vec(1, t) + m4, a2 = vec(2, t) + vec(5, t)
                storeParity(left: a0 + a1, right: a1 + a2, px: px, into: top + 4 * tx)
                let b0 = vec(3, t) + vec(6, t), b1 = m4 + vec(7, t), b2 = vec(5, t) + vec(8, t)
                storeParity(left: b0 + b1, right: b1 + b2, px: px, into: bottom + 4 * tx)
                tx += 4
            }
            while tx < end {
                let t = first + tx
                @inline(__always) func at(_ xi: Int) -> Float { m[xi * stride + t] }
                let s00 = at(0) + at(3), s01 = at(1) + at(4), s02 = at(2) + at(5)
                let s10 = at(3) + at(6), s11 = at(4) + at(7), s12 = at(5) + at(8)
                top[4 * tx + px] = s00 + s01
                top[4 * tx + 2 + px] = s01 + s02
                bottom[4 * tx + px] = s10 + s11
                bottom[4 * tx + 2 + px] = s11 + s12
                tx += 1
            }
            row += 1
        }
    }

    /// `dst[4 i + px] = left[i]`, `dst[4 i + 2 + px] = right[i]` for i in 0..<4 (one store per
    /// value: the other parity's lanes are never touched).
    @inline(__always)
    private static func storeParity(left: SIMD4<Float>, right: SIMD4<Float>, px: Int, into dst: UnsafeMutablePointer<Float>) {
        let d = dst + px
        d[0] = left[0]; d[2] = right[0]; d[4] = left[1]; d[6] = right[1]
        d[8] = left[2]; d[10] = right[2]; d[12] = left[3]; d[14] = right[3]
    }
}
