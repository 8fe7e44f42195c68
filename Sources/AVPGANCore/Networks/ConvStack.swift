/// The shared body of the generator and the face encoder: a chain of (transposed)
/// convolutions, each with its epilogue (bias + activation) and optional CBAM, run over a batch
/// in CNHW layout. One place for the layout logic of docs/model-format.md.
struct ConvStack {
    enum Op {
        case conv(Conv2d)
        case transposed(ConvTranspose2d)
    }

    struct Layer {
        let op: Op
        let epilogue: Epilogue
        let cbam: CBAM?

        var outChannels: Int {
            switch op {
            case let .conv(c): return c.outChannels
            case let .transposed(t): return t.outChannels
            }
        }

        func outputSize(h: Int, w: Int) -> (h: Int, w: Int) {
            switch op {
            case let .conv(c): return c.geometry.convOutput(h: h, w: w) ?? (0, 0)
            case let .transposed(t): return t.geometry.transposedOutput(h: h, w: w) ?? (0, 0)
            }
        }

        /// Images per GEMM pass of a batch of `batch` images of `h x w` within `Scratch.cols`.
        func imagesPerPass(batch: Int, h: Int, w: Int) -> Int {
            switch op {
            case let .conv(c):
                let perImage = c.scratchCount(batch: 1, h: h, w: w)
                return perImage == 0 ? batch : max(1, min(batch, Scratch.cols / perImage))
            case let .transposed(t): return t.imagesPerPass(batch: batch, h: h, w: w, budget: Scratch.cols)
            }
        }

        func scratchCount(batch: Int, h: Int, w: Int) -> Int {
            switch op {
            case let .conv(c): return c.scratchCount(batch: batch, h: h, w: w)
            case let .transposed(t): return t.scratchCount(batch: batch, h: h, w: w)
            }
        }
    }

    let layers: [Layer]
    let inChannels: Int

    /// Loads `network` ("generator" or "face_encoder") from the file; with `subPixel`, the
    /// transposed convolutions that have a sub-pixel Winograd way may take it (their weights are
    /// transformed on the first forward that does, `SubPixelWeights`); without, they run by
    /// col2im alone.
    init(_ r: WeightReader, network: NetworkName, subPixel: Bool = true) throws {
        let config = r.config
        let transposed = network == .generator
        let widths = transposed ? config.generatorWidths : config.faceWidths
        let activation: Activation = transposed ? .relu : .leakyReLU(slope: 0.2)
        let (convIndex, cbamIndex, finalIndex) = TensorLayout.convIndices(layers: widths.count, cbam: config.hasCBAM(network))
        inChannels = transposed ? config.embedDim : 3
        var layers: [Layer] = []
        var c = inChannels
        for i in 0...widths.count {
            let last = i == widths.count
            let o = last ? (transposed ? 3 : config.embedDim) : widths[i]
            let p = "\(network.rawValue).model.\(last ? finalIndex : convIndex[i])"
            let normalised = config.spectrallyNormalised(network, layer: i, last: last)
            let weight = try r.weight(p, normalised: normalised, dim: transposed ? 1 : 0)
            let geometry = TensorLayout.geometry(transposed: transposed, layer: i, last: last)
            let op: Op = transposed
                ? .transposed(ConvTranspose2d(weight: weight, inChannels: c, outChannels: o, geometry: geometry, subPixel: subPixel))
                : .conv(Conv2d(weight: weight, inChannels: c, outChannels: o, geometry: geometry))
            var cbam: CBAM?
            if !last, let a = cbamIndex[i] {
                let q = "\(network.rawValue).model.\(a)"
                let k = config.cbamKernel
                cbam = CBAM(channels: o, hidden: TensorLayout.cbamHidden(o, reduction: config.cbamReduction),
                            reduce: try r.storage("\(q).mlp.0.weight"), expand: try r.storage("\(q).mlp.2.weight"),
                            spatial: Conv2d(weight: try r.storage("\(q).spatial.weight"), inChannels: 2, outChannels: 1,
                                            geometry: .square(k, padding: k / 2)),
                            gate: config.cbamGate)
            }
            layers.append(Layer(op: op, epilogue: Epilogue(scale: nil, shift: try r.storage("\(p).bias"),
                                                          activation: last ? .identity : activation), cbam: cbam))
            c = o
        }
        self.layers = layers
    }

    var parameterCount: Int {
        layers.reduce(0) { total, l in
            let w: Int
            switch l.op {
            case let .conv(c): w = c.weight.count
            case let .transposed(t): w = t.parameterCount
            }
            let a = l.cbam.map { $0.reduce.count + $0.expand.count + $0.spatial.weight.count } ?? 0
            return total + w + (l.epilogue.shift?.count ?? 0) + a
        }
    }

    /// Floats of scratch one image needs at the widest point: the largest map, the largest
    /// im2col/GEMM block of a layer, the largest CBAM scratch.
    func scratchPerImage(h: Int, w: Int) -> (maps: Int, cols: Int, cbam: Int) {
        var (h, w) = (h, w)
        var maps = inChannels * h * w, cols = 0, cbam = 0
        for l in layers {
            cols = max(cols, l.scratchCount(batch: 1, h: h, w: w))
            (h, w) = l.outputSize(h: h, w: w)
            maps = max(maps, l.outChannels * h * w)
            if let a = l.cbam { cbam = max(cbam, a.scratchCount(batch: 1, h: h, w: w)) }
        }
        return (maps, cols, cbam)
    }

    /// Images per pass through the stack, so that its two activation maps and CBAM scratch
    /// stay within `Scratch.maps` floats.
    func chunkSize(h: Int, w: Int) -> Int {
        let per = scratchPerImage(h: h, w: w)
        return max(1, Scratch.maps / max(2 * per.maps + per.cbam, 1))
    }

    /// The input buffer for a batch of `batch` images of `h x w`: workspace slot 0, sized for
    /// every map of the stack. Fill it in CNHW layout, then call `forward`.
    func inputBuffer(batch: Int, h: Int, w: Int, workspace: Workspace) throws -> UnsafeMutablePointer<Float> {
        try workspace.slot(0, count: scratchPerImage(h: h, w: w).maps * batch)
    }

    /// Runs the stack on `input`, which must live in `inputBuffer`. The output map lives in
    /// workspace slot 0 or 1 (the maps ping-pong); slots 2 and 3 hold im2col/GEMM and CBAM
    /// scratch. Each layer runs its GEMMs over as many images at once as its own im2col/GEMM
    /// block allows within `Scratch.cols` floats, so small early layers get wide GEMMs.
    func forward(_ input: FeatureMap, workspace: Workspace) throws -> FeatureMap {
        let per = scratchPerImage(h: input.height, w: input.width)
        let n = input.batch
        let cols = try workspace.slot(2, count: min(per.cols * n, max(Scratch.cols, per.cols)))
        let cbamScratch = try workspace.slot(3, count: per.cbam * n)
        var x = input
        var other = try workspace.slot(1, count: per.maps * n)
        for l in layers {
            let (h, w) = l.outputSize(h: x.height, w: x.width)
            let y = FeatureMap(data: other, channels: l.outChannels, batch: n, height: h, width: w)
            let step = l.imagesPerPass(batch: n, h: x.height, w: x.width)
            for first in stride(from: 0, to: n, by: step) {
                let images = first..<min(first + step, n)
                switch l.op {
                case let .conv(c):
                    c.forward(x.images(images), into: y.images(images), epilogue: l.epilogue, cols: cols)
                case let .transposed(t):
                    t.forward(x.images(images), into: y.images(images), epilogue: l.epilogue, cols: cols)
                }
            }
            l.cbam?.apply(y, scratch: cbamScratch)
            other = x.data
            x = y
        }
        return x
    }
}

/// Scratch budgets, in floats, that set how many images go through the networks at once.
enum Scratch {
    /// Activation maps (two per chunk) and CBAM scratch.
    static let maps = 16 << 20
    /// One layer's im2col or GEMM block.
    static let cols = 4 << 20
}
