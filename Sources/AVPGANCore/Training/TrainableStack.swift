/// The generator or the face encoder in training mode: forward passes that return a `Tape`
/// (everything their backward needs, including the spectral-norm vectors of that very
/// forward), and backward passes that accumulate parameter gradients. Layout as `ConvStack`
/// (docs/model-format.md); activations CNHW. See docs/training-design.md.
final class TrainableStack {
    struct Layer {
        let transposed: Bool
        let geometry: ConvGeometry
        let inChannels: Int
        let outChannels: Int
        /// `weight`, or `weight_orig` for a spectrally normalised layer.
        let weight: TrainedParameter
        let bias: TrainedParameter
        let spectral: SpectralNormTraining?
        let activation: Activation
        let cbam: (reduce: TrainedParameter, expand: TrainedParameter, spatial: TrainedParameter, hidden: Int, kernel: Int,
                  gate: CBAMGate)?
    }

    /// What one forward leaves for its backward. Owned by the caller and reused from step to
    /// step: its maps, effective weights and CBAM tapes keep their memory and are overwritten
    /// by the next `forward` into it.
    final class Tape {
        /// The forward's input (the caller's memory: keep it unchanged until `backward`).
        fileprivate(set) var input: FeatureMap?
        /// Per layer: the activated convolution output `y`, and CBAM(y) when the layer has one.
        fileprivate var activated: [FeatureMapStorage?] = []
        fileprivate var attended: [FeatureMapStorage?] = []
        /// Per spectrally normalised layer: `W/σ` and the `u`, `v`, `σ` of this forward.
        fileprivate var weights: [FloatStorage?] = []
        fileprivate var snapshots: [SpectralNormTraining.Snapshot?] = []
        fileprivate var cbams: [CBAMTraining?] = []
        /// The network's output (tape memory).
        fileprivate(set) var output: FeatureMap?

        fileprivate init(layers: Int) {
            activated = Array(repeating: nil, count: layers)
            attended = activated
            weights = Array(repeating: nil, count: layers)
            snapshots = Array(repeating: nil, count: layers)
            cbams = Array(repeating: nil, count: layers)
        }

        /// Layer `i`'s output map (after its CBAM).
        fileprivate func layerOutput(_ i: Int) -> FeatureMap { (attended[i] ?? activated[i]!).map }
    }

    let network: NetworkName
    let layers: [Layer]
    let parameters: [TrainedParameter]
    /// im2col/col2im scratch and the backward's intermediate gradients, reused by every
    /// forward and backward (not part of a tape: a trainer is used by one thread at a time).
    private let workspace = Workspace()

    /// The network `network` ("generator" or "face_encoder") from checkpoint tensors
    /// (spectral norm stored: `weight_orig`, `weight_u`, `weight_v`).
    init(network: NetworkName, config: ModelConfig, tensors: [String: [Float]]) throws {
        self.network = network
        let transposed = network == .generator
        let widths = transposed ? config.generatorWidths : config.faceWidths
        let (convIndex, cbamIndex, finalIndex) = TensorLayout.convIndices(layers: widths.count, cbam: config.hasCBAM(network))
        var layers: [Layer] = [], parameters: [TrainedParameter] = []
        var c = transposed ? config.embedDim : 3
        func parameter(_ name: String, _ shape: [Int]) throws -> TrainedParameter {
            guard let v = tensors[name] else { throw AVPGANError.invalid("training tensors lack \(name)") }
            let p = try TrainedParameter(name: name, shape: shape, values: v)
            parameters.append(p)
            return p
        }
        for i in 0...widths.count {
            let last = i == widths.count
            let o = last ? (transposed ? 3 : config.embedDim) : widths[i]
            let prefix = "\(network.rawValue).model.\(last ? finalIndex : convIndex[i])"
            let geometry = TensorLayout.geometry(transposed: transposed, layer: i, last: last)
            let shape = transposed ? [c, o, geometry.kernelH, geometry.kernelW] : [o, c, geometry.kernelH, geometry.kernelW]
            let normalised = config.spectrallyNormalised(network, layer: i, last: last)
            let weight = try parameter(normalised ? "\(prefix).weight_orig" : "\(prefix).weight", shape)
            var spectral: SpectralNormTraining?
            if normalised {
                guard let u = tensors["\(prefix).weight_u"], let v = tensors["\(prefix).weight_v"] else {
                    throw AVPGANError.invalid("training tensors lack \(prefix).weight_u/_v")
                }
                spectral = SpectralNormTraining(shape: shape, dim: transposed ? 1 : 0, u: u, v: v)
            }
            let bias = try parameter("\(prefix).bias", [o])
            var cbam: Layer.CBAMParameters = nil
            if !last, let a = cbamIndex[i] {
                let q = "\(network.rawValue).model.\(a)"
                let h = TensorLayout.cbamHidden(o, reduction: config.cbamReduction), k = config.cbamKernel
                cbam = (try parameter("\(q).mlp.0.weight", [h, o, 1, 1]), try parameter("\(q).mlp.2.weight", [o, h, 1, 1]),
                        try parameter("\(q).spatial.weight", [1, 2, k, k]), h, k, config.cbamGate)
            }
            let activation: Activation = last ? .identity : (transposed ? .relu : .leakyReLU(slope: 0.2))
            layers.append(Layer(transposed: transposed, geometry: geometry, inChannels: c, outChannels: o, weight: weight,
                                bias: bias, spectral: spectral, activation: activation, cbam: cbam))
            c = o
        }
        self.layers = layers
        self.parameters = parameters
    }

    /// The current tensors under their checkpoint names (parameters and spectral-norm vectors).
    var tensors: [String: [Float]] {
        var out: [String: [Float]] = [:]
        for p in parameters { out[p.name] = p.value.array }
        for l in layers {
            if let s = l.spectral {
                let prefix = String(l.weight.name.dropLast("_orig".count))
                out["\(prefix)_u"] = s.u
                out["\(prefix)_v"] = s.v
            }
        }
        return out
    }

    func zeroGrad() { parameters.forEach { $0.zeroGrad() } }
    func step() { parameters.forEach { $0.step() } }

    /// True when no layer is spectrally normalised: a forward is then a pure function of the
    /// parameters and the input (two forwards of one input between updates are identical).
    var isPure: Bool { layers.allSatisfy { $0.spectral == nil } }

    /// A tape for this stack (its memory is allocated by the first `forward` into it).
    func makeTape() -> Tape { Tape(layers: layers.count) }

    /// Forward in training mode (one power iteration per spectrally normalised layer) of
    /// `input` (`in x batch x h x w`), recorded on `tape` (overwriting its previous forward).
    /// Each layer's GEMMs run over as many images at once as `Scratch.cols` allows.
    func forward(_ input: FeatureMap, tape: Tape) throws {
        tape.input = input
        var x = input
        for (i, l) in layers.enumerated() {
            var weight = l.weight.value
            if let s = l.spectral {
                let effective = try reuse(&tape.weights[i], count: l.weight.count)
                s.forward(weightOrig: l.weight.value.pointer, into: effective.pointer)
                tape.snapshots[i] = s.snapshot
                weight = effective
            }
            let (h, w) = l.transposed ? l.geometry.transposedOutput(h: x.height, w: x.width)! : l.geometry.convOutput(h: x.height, w: x.width)!
            let y = try reuse(&tape.activated[i], channels: l.outChannels, batch: x.batch, height: h, width: w).map
            let epilogue = Epilogue(scale: nil, shift: l.bias.value, activation: l.activation)
            let op = Op(layer: l, weight: weight)
            try overImages(op, x, outH: h, outW: w, gradWeight: nil) { images, cols, _ in
                op.forward(x.images(images), into: y.images(images), epilogue: epilogue, cols: cols)
            }
            if let a = l.cbam {
                if tape.cbams[i] == nil {
                    tape.cbams[i] = CBAMTraining(CBAM(channels: l.outChannels, hidden: a.hidden, reduce: a.reduce.value, expand: a.expand.value,
                                                      spatial: Conv2d(weight: a.spatial.value, inChannels: 2, outChannels: 1,
                                                                      geometry: .square(a.kernel, padding: a.kernel / 2)),
                                                      gate: a.gate))
                }
                let out = try reuse(&tape.attended[i], channels: l.outChannels, batch: x.batch, height: h, width: w).map
                try tape.cbams[i]!.forward(y, into: out)
                x = out
            } else {
                x = y
            }
        }
        tape.output = x
    }

    /// Backward of `tape`'s forward from dL/d(output) `gradOutput` (read, and overwritten as
    /// scratch when the last layer has an activation). Parameter gradients are ADDED unless
    /// `parameterGradients` is false (the G step's pass through f only needs dL/d(input)).
    /// dL/d(input) is written to `gradInput` when given (the input's shape; must not alias
    /// the tape or `gradOutput`). Intermediate gradients live in this stack's workspace.
    func backward(_ tape: Tape, gradOutput: FeatureMap, gradInput: FeatureMap? = nil,
                  parameterGradients: Bool = true) throws {
        var dy = gradOutput
        for (i, l) in layers.enumerated().reversed() {
            let x = i == 0 ? tape.input! : tape.layerOutput(i - 1), y = tape.activated[i]!.map
            var dAct = dy
            if let trainer = tape.cbams[i], let a = l.cbam {
                dAct = FeatureMap(data: try workspace.slot(Slot.cbamGradient, count: y.channels * y.row), channels: y.channels,
                                  batch: y.batch, height: y.height, width: y.width)
                // Without parameter gradients, CBAM's weight gradients go to throw-away scratch.
                let sink = parameterGradients ? nil : try workspace.slot(Slot.sink, count: a.reduce.count + a.expand.count + a.spatial.count)
                try trainer.backward(input: y, gradOutput: dy, gradInput: dAct,
                                     gradReduce: sink ?? a.reduce.grad.pointer,
                                     gradExpand: sink.map { $0 + a.reduce.count } ?? a.expand.grad.pointer,
                                     gradSpatial: sink.map { $0 + a.reduce.count + a.expand.count } ?? a.spatial.grad.pointer)
            }
            l.activation.backward(output: y.data, grad: dAct.data, count: y.channels * y.row)
            if parameterGradients { accumulateChannelSums(dAct, into: l.bias.grad.pointer) }
            if !parameterGradients && i == 0 && gradInput == nil { return }
            let weight = tape.weights[i] ?? l.weight.value
            var gradWeight: UnsafeMutablePointer<Float>?
            if parameterGradients {
                if l.spectral == nil {
                    gradWeight = l.weight.grad.pointer
                } else {
                    gradWeight = try workspace.slot(Slot.weightGradient, count: l.weight.count)
                    gradWeight!.update(repeating: 0, count: l.weight.count)
                }
            }
            let dx: FeatureMap? = i > 0
                ? FeatureMap(data: try workspace.slot(i % 2 == 0 ? Slot.gradientA : Slot.gradientB, count: x.channels * x.row),
                             channels: x.channels, batch: x.batch, height: x.height, width: x.width)
                : gradInput
            let op = Op(layer: l, weight: weight)
            try overImages(op, x, outH: y.height, outW: y.width, gradWeight: gradWeight.map { ($0, l.weight.count) }) { r, cols, gw in
                op.backward(input: x.images(r), gradOutput: dAct.images(r), gradInput: dx?.images(r), gradWeight: gw, cols: cols)
            }
            if let s = l.spectral, let snap = tape.snapshots[i], let gradWeight {
                s.backward(weightOrig: l.weight.value.pointer, gradWeight: gradWeight,
                           gradWeightOrig: l.weight.grad.pointer, from: snap)
            }
            guard let dx else { return }
            dy = dx
        }
    }

    /// Workspace slots.
    private enum Slot {
        /// Thread t's cols scratch is slot `cols + 2t`, its partial weight gradient `cols + 2t + 1`.
        static let sink = 1, gradientA = 2, gradientB = 3, cbamGradient = 4, weightGradient = 5, cols = 6
    }

    /// A layer's convolution with a given weight.
    private enum Op {
        case conv(Conv2d)
        case transposed(ConvTranspose2d)

        init(layer l: Layer, weight: FloatStorage) {
            self = l.transposed
                ? .transposed(ConvTranspose2d(weight: weight, inChannels: l.inChannels, outChannels: l.outChannels, geometry: l.geometry))
                : .conv(Conv2d(weight: weight, inChannels: l.inChannels, outChannels: l.outChannels, geometry: l.geometry))
        }

        var isTransposed: Bool { if case .transposed = self { return true } else { return false } }

        /// im2col/GEMM scratch per image of `h x w` input, forward and backward alike.
        func scratchPerImage(h: Int, w: Int) -> Int {
            switch self {
            case let .conv(c): return c.scratchCount(batch: 1, h: h, w: w)
            case let .transposed(t): return t.scratchCount(batch: 1, h: h, w: w)
            }
        }

        func forward(_ x: FeatureMap, into y: FeatureMap, epilogue: Epilogue, cols: UnsafeMutablePointer<Float>) {
            switch self {
            case let .conv(c): c.forward(x, into: y, epilogue: epilogue, cols: cols)
            case let .transposed(t): t.forward(x, into: y, epilogue: epilogue, cols: cols)
            }
        }

        func backward(input x: FeatureMap, gradOutput dy: FeatureMap, gradInput dx: FeatureMap?,
                      gradWeight: UnsafeMutablePointer<Float>?, cols: UnsafeMutablePointer<Float>) {
            switch self {
            case let .conv(c): c.backward(input: x, gradOutput: dy, gradInput: dx, gradWeight: gradWeight, gradBias: nil, cols: cols)
            case let .transposed(t): t.backward(input: x, gradOutput: dy, gradInput: dx, gradWeight: gradWeight, gradBias: nil, cols: cols)
            }
        }
    }

    /// GEMM columns per thread below which a layer is not split over images (its kernels then
    /// split their GEMMs over channel blocks instead).
    private static let minimumColumns = 2048

    /// Runs `body(images, cols, gradWeight)` over all images of `x` (input of `op`, whose output
    /// is `outH x outW`) in sub-batches of as many images as `Scratch.cols` floats of im2col/GEMM
    /// scratch allow. When each thread gets at least `minimumColumns` GEMM columns, the threads
    /// take contiguous blocks of images, each with its own scratch (whole-width GEMMs, no
    /// duplicated packing, no barrier between im2col, GEMM and col2im); the kernels' own
    /// parallel regions then run inline. A weight gradient (`count` floats) is ADDED: thread 0
    /// into it, the others into zeroed partials summed into it afterwards in thread order.
    private func overImages(_ op: Op, _ x: FeatureMap, outH: Int, outW: Int,
                            gradWeight: (pointer: UnsafeMutablePointer<Float>, count: Int)?,
                            _ body: (Range<Int>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>?) -> Void) throws {
        let columns = x.batch * (op.isTransposed ? x.plane : outH * outW)
        let threads = min(Threads.count, x.batch)
        let parts = threads > 1 && columns / threads >= TrainableStack.minimumColumns ? threads : 1
        let per = op.scratchPerImage(h: x.height, w: x.width)
        // Sub-batches of equal size (not a full-budget run and a small remainder).
        let share = (x.batch + parts - 1) / parts
        let largest = per == 0 ? share : max(1, min(share, Scratch.cols / parts / per))
        let runs = (share + largest - 1) / largest
        let step = (share + runs - 1) / runs
        var cols: [UnsafeMutablePointer<Float>] = []
        var grads: [UnsafeMutablePointer<Float>?] = [gradWeight?.pointer]
        for t in 0..<parts {
            cols.append(try workspace.slot(Slot.cols + 2 * t, count: max(per * step, 1)))
            if t > 0, let g = gradWeight {
                let partial = try workspace.slot(Slot.cols + 2 * t + 1, count: g.count)
                partial.update(repeating: 0, count: g.count)
                grads.append(partial)
            }
        }
        if parts == 1 {
            for first in stride(from: 0, to: x.batch, by: step) { body(first..<min(first + step, x.batch), cols[0], grads[0]) }
            return
        }
        parallelFor(parts, costPerItem: Int.max) { t in
            let end = x.batch * (t + 1) / parts
            for first in stride(from: x.batch * t / parts, to: end, by: step) {
                body(first..<min(first + step, end), cols[t], gradWeight == nil ? nil : grads[t])
            }
        }
        if let g = gradWeight {
            for t in 1..<parts { BLAS.axpy(g.count, alpha: 1, x: grads[t]!, y: g.pointer) }
        }
    }

    /// `slot`'s map with room for the given shape (allocated on first use, then reused).
    private func reuse(_ slot: inout FeatureMapStorage?, channels: Int, batch: Int, height: Int, width: Int) throws -> FeatureMapStorage {
        if let m = slot, m.channels == channels, m.batch == batch, m.height == height, m.width == width { return m }
        let m = try FeatureMapStorage(channels: channels, batch: batch, height: height, width: width)
        slot = m
        return m
    }

    private func reuse(_ slot: inout FloatStorage?, count: Int) throws -> FloatStorage {
        if let s = slot, s.count == count { return s }
        let s = try FloatStorage(count: count)
        slot = s
        return s
    }
}

extension TrainableStack.Layer {
    typealias CBAMParameters = (reduce: TrainedParameter, expand: TrainedParameter, spatial: TrainedParameter, hidden: Int, kernel: Int,
                  gate: CBAMGate)?
}

/// A FeatureMap with its own storage (maps kept on a tape outlive any workspace).
final class FeatureMapStorage {
    let storage: FloatStorage
    let channels: Int, batch: Int, height: Int, width: Int

    init(channels: Int, batch: Int, height: Int, width: Int) throws {
        storage = try FloatStorage(count: channels * batch * height * width)
        self.channels = channels
        self.batch = batch
        self.height = height
        self.width = width
    }

    var map: FeatureMap { FeatureMap(data: storage.pointer, channels: channels, batch: batch, height: height, width: width) }
}
