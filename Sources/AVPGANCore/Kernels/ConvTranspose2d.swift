/// ConvTranspose2d as torch defines it (groups 1, no output padding, no dilation), computed as
/// one OpenBLAS GEMM over the whole batch followed by col2im (`Col2im`):
/// `cols[out*kh*kw, batch*h*w] = Wᵀ · x`, then every column scattered to the output positions
/// its taps reach. weight: `[in, out, kh, kw]` row-major. The bias and activation are applied
/// by the caller's `Epilogue`, fused into the scatter.
///
/// Kernel 4, stride 2, padding 1 (the generator's upsampling) has a second way, with 0.56x the
/// multiplications and no scatter: `SubPixelWinograd`, taken where it is the faster
/// (`usesSubPixel`) by layers built with `subPixel: true`, whose weights are regrouped on their
/// first forward and completed on the first that takes that way (`SubPixelWeights`: one copy,
/// nothing at load); their col2im way reads the regrouped weights.
struct ConvTranspose2d {
    /// Where the weights live: fixed `[in, out, kh, kw]` (training's layers, every geometry
    /// without the sub-pixel way), or one layout at a time (`SubPixelWeights`).
    enum Weights {
        case fixed(FloatStorage)
        case subPixel(SubPixelWeights)
    }

    /// The weights as a `Weights` (made from the two stored references below).
    var weights: Weights { subPixelWeights.map { .subPixel($0) } ?? .fixed(fixedWeight!) }
    // Two optional references rather than a stored `Weights`: an enum of two class payloads
    // keeps its case in the references' spare bits, where LeakSanitizer no longer sees a pointer
    // (a loaded model's weights were reported as leaked).
    private let fixedWeight: FloatStorage?
    private let subPixelWeights: SubPixelWeights?
    let inChannels: Int
    let outChannels: Int
    let geometry: ConvGeometry

    /// `weight`: `[in, out, kh, kw]` row-major. `subPixel`: may take the sub-pixel Winograd way
    /// when the geometry has it (inference only: the weights must not change afterwards).
    init(weight: FloatStorage, inChannels: Int, outChannels: Int, geometry: ConvGeometry, subPixel: Bool = false) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.geometry = geometry
        let lazy = subPixel && SubPixelWinograd.handles(geometry)
        subPixelWeights = lazy ? SubPixelWeights(original: weight, inChannels: inChannels, outChannels: outChannels) : nil
        fixedWeight = lazy ? nil : weight
    }

    /// True when this layer can take the sub-pixel Winograd way.
    var hasSubPixel: Bool { subPixelWeights != nil }

    /// The `[in, out, kh, kw]` weights of a layer built without `subPixel` (training's, whose
    /// backward reads them).
    var weight: FloatStorage {
        guard let fixedWeight else { preconditionFailure("ConvTranspose2d.weight: a sub-pixel layer has no fixed weights") }
        return fixedWeight
    }

    /// Floats of weights as the file stores them.
    var parameterCount: Int { inChannels * outChannels * geometry.taps }

    /// Tiles (2x2 blocks of each output parity, over the batch) from which the sub-pixel Winograd
    /// path is the faster: below, the GEMM is bound by streaming the 2.25x larger transformed
    /// weights (docs/performance.md, "Sub-pixel Winograd").
    static let subPixelMinimumTiles = 64

    /// True when a forward over `batch` images of `h x w` runs by sub-pixel Winograd.
    func usesSubPixel(batch: Int, h: Int, w: Int) -> Bool {
        hasSubPixel && h % 2 == 0 && w % 2 == 0 && batch * (h / 2) * (w / 2) >= Self.subPixelMinimumTiles
    }

    /// Floats of GEMM scratch a forward over `batch` images of `h x w` needs (0 when pointwise),
    /// whichever way it runs.
    func scratchCount(batch: Int, h: Int, w: Int) -> Int {
        if geometry.isPointwise { return 0 }
        let col2im = outChannels * geometry.taps * batch * h * w
        guard hasSubPixel else { return col2im }
        return max(col2im, SubPixelWinograd.scratchCount(inChannels: inChannels, outChannels: outChannels, batch: batch, h: h, w: w))
    }

    /// Images per forward for a batch of `batch` images of `h x w` whose scratch must fit in
    /// `budget` floats: as many as the way taken for them allows (at least 1).
    func imagesPerPass(batch: Int, h: Int, w: Int, budget: Int) -> Int {
        let col2im = geometry.isPointwise ? batch : max(1, min(batch, budget / max(scratchCount(batch: 1, h: h, w: w), 1)))
        guard hasSubPixel else { return col2im }
        let images = SubPixelWinograd.imagesWithin(budget, inChannels: inChannels, outChannels: outChannels, batch: batch, h: h, w: w)
        return usesSubPixel(batch: images, h: h, w: w) ? images : col2im
    }

    /// out = epilogue(convT(input)); `out.data` holds `outChannels x batch x oh x ow` floats.
    /// Each thread computes a block of output channels: their GEMM rows, scatter and epilogue
    /// (a sub-pixel layer's col2im way runs its 16 per-tap GEMMs first, spread over the threads).
    func forward(_ input: FeatureMap, into out: FeatureMap, epilogue: Epilogue, cols: UnsafeMutablePointer<Float>) {
        var weight = fixedWeight, byTap: FloatStorage?
        if let lazy = subPixelWeights {
            let winograd = usesSubPixel(batch: input.batch, h: input.height, w: input.width)
            if let ready = lazy.prepare(winograd: winograd) {
                if winograd, let extras = ready.extras {
                    SubPixelWinograd.forward(weights: SubPixelWinograd.Weights(taps: ready.taps.pointer, extras: extras.pointer,
                                                                               inChannels: inChannels, outChannels: outChannels),
                                             input, into: out, epilogue: epilogue, scratch: cols)
                    return
                }
                byTap = ready.taps
            } else {
                // No memory for the taps: col2im on what the layer holds now.
                switch lazy.current {
                case let .original(w): weight = w
                case let .taps(t), let .transformed(t, _): byTap = t
                }
            }
        }
        let taps = geometry.taps
        let n = input.row
        let lda = outChannels * taps
        if let byTap {
            SubPixelWinograd.col2imColumns(taps: byTap.pointer, inChannels: inChannels, outChannels: outChannels, input, into: cols)
        }
        parallelBlocks(outChannels, costPerItem: 2 * taps * inChannels * n) { channels in
            let first = channels.lowerBound
            if let weight, geometry.isPointwise {
                BLAS.gemm(transA: true, m: channels.count, n: n, k: inChannels,
                          a: weight.pointer + first, lda: lda, b: input.data, ldb: input.stride,
                          c: out.channel(first), ldc: out.stride)
                for c in channels where !epilogue.isIdentity { epilogue.apply(channel: c, out.channel(c), count: out.row) }
                return
            }
            if let weight {
                BLAS.gemm(transA: true, m: channels.count * taps, n: n, k: inChannels,
                          a: weight.pointer + first * taps, lda: lda, b: input.data, ldb: input.stride,
                          c: cols + first * taps * n, ldc: n)
            }
            for c in channels {
                Col2im.scatterChannel(UnsafePointer(cols), channel: c, geometry: geometry,
                                      smallH: input.height, smallW: input.width, into: out)
                epilogue.apply(channel: c, out.channel(c), count: out.row)
            }
        }
    }
}
