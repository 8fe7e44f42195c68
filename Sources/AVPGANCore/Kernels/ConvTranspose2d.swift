/// ConvTranspose2d as torch defines it (groups 1, no output padding, no dilation), computed as
/// one OpenBLAS GEMM over the whole batch followed by col2im (`Col2im`):
/// `cols[out*kh*kw, batch*h*w] = Wᵀ · x`, then every column scattered to the output positions
/// its taps reach. weight: `[in, out, kh, kw]` row-major. The bias and activation are applied
/// by the caller's `Epilogue`, fused into the scatter.
///
/// Kernel 4, stride 2, padding 1 (the generator's upsampling) has a second way, with 0.56x the
/// multiplications and no scatter: `SubPixelWinograd`, on weights transformed once by
/// `packingSubPixel()`, taken where it is the faster (`usesSubPixel`).
struct ConvTranspose2d {
    let weight: FloatStorage
    let inChannels: Int
    let outChannels: Int
    let geometry: ConvGeometry
    /// `weight` in `SubPixelWinograd`'s layout; nil: col2im only.
    var subPixel: FloatStorage? = nil

    /// Tiles (2x2 blocks of each output parity, over the batch) from which the sub-pixel Winograd
    /// path is the faster: below, the GEMM is bound by streaming the 2.25x larger transformed
    /// weights (docs/performance.md, "Sub-pixel Winograd").
    static let subPixelMinimumTiles = 64

    /// This layer with its sub-pixel Winograd weights when its geometry has that way and
    /// `enabled` (once, at load: 2.25x the floats of `weight`).
    func packingSubPixel(_ enabled: Bool = true) throws -> ConvTranspose2d {
        guard enabled, SubPixelWinograd.handles(geometry) else { return self }
        var packed = self
        let count = SubPixelWinograd.weightCount(inChannels: inChannels, outChannels: outChannels)
        packed.subPixel = try FloatStorage(count: count, filledBy: {
            SubPixelWinograd.transformWeights(weight.pointer, inChannels: inChannels, outChannels: outChannels, into: $0)
        })
        return packed
    }

    /// True when a forward over `batch` images of `h x w` runs by sub-pixel Winograd.
    func usesSubPixel(batch: Int, h: Int, w: Int) -> Bool {
        subPixel != nil && h % 2 == 0 && w % 2 == 0 && batch * (h / 2) * (w / 2) >= Self.subPixelMinimumTiles
    }

    /// Floats of GEMM scratch a forward over `batch` images of `h x w` needs (0 when pointwise),
    /// whichever way it runs.
    func scratchCount(batch: Int, h: Int, w: Int) -> Int {
        if geometry.isPointwise { return 0 }
        let col2im = outChannels * geometry.taps * batch * h * w
        guard subPixel != nil else { return col2im }
        return max(col2im, SubPixelWinograd.scratchCount(inChannels: inChannels, outChannels: outChannels, batch: batch, h: h, w: w))
    }

    /// Images per forward for a batch of `batch` images of `h x w` whose scratch must fit in
    /// `budget` floats: as many as the way taken for them allows (at least 1).
    func imagesPerPass(batch: Int, h: Int, w: Int, budget: Int) -> Int {
        let col2im = geometry.isPointwise ? batch : max(1, min(batch, budget / max(scratchCount(batch: 1, h: h, w: w), 1)))
        guard subPixel != nil else { return col2im }
        let images = SubPixelWinograd.imagesWithin(budget, inChannels: inChannels, outChannels: outChannels, batch: batch, h: h, w: w)
        return usesSubPixel(batch: images, h: h, w: w) ? images : col2im
    }

    /// out = epilogue(convT(input)); `out.data` holds `outChannels x batch x oh x ow` floats.
    /// Each thread computes a block of output channels: their GEMM rows, scatter and epilogue.
    func forward(_ input: FeatureMap, into out: FeatureMap, epilogue: Epilogue, cols: UnsafeMutablePointer<Float>) {
        if let subPixel, usesSubPixel(batch: input.batch, h: input.height, w: input.width) {
            SubPixelWinograd.forward(weights: subPixel.pointer, inChannels: inChannels, outChannels: outChannels, input,
                                     into: out, epilogue: epilogue, scratch: cols)
            return
        }
        let taps = geometry.taps
        let n = input.row
        let lda = outChannels * taps
        parallelBlocks(outChannels, costPerItem: 2 * taps * inChannels * n) { channels in
            let first = channels.lowerBound
            if geometry.isPointwise {
                BLAS.gemm(transA: true, m: channels.count, n: n, k: inChannels,
                          a: weight.pointer + first, lda: lda, b: input.data, ldb: input.stride,
                          c: out.channel(first), ldc: out.stride)
                for c in channels where !epilogue.isIdentity { epilogue.apply(channel: c, out.channel(c), count: out.row) }
                return
            }
            BLAS.gemm(transA: true, m: channels.count * taps, n: n, k: inChannels,
                      a: weight.pointer + first * taps, lda: lda, b: input.data, ldb: input.stride,
                      c: cols + first * taps * n, ldc: n)
            for c in channels {
                Col2im.scatterChannel(UnsafePointer(cols), channel: c, geometry: geometry,
                                      smallH: input.height, smallW: input.width, into: out)
                epilogue.apply(channel: c, out.channel(c), count: out.row)
            }
        }
    }
}
