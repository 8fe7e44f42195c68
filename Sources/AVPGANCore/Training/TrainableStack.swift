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
        let cbam: (reduce: TrainedParameter, expand: TrainedParameter, spatial: TrainedParameter, hidden: Int, kernel: Int)?
    }

    /// What one forward leaves for its backward.
    final class Tape {
        var inputs: [FeatureMapStorage] = []
        var activated: [FeatureMapStorage] = []
        var weights: [FloatStorage?] = []
        var snapshots: [SpectralNormTraining.Snapshot?] = []
        var cbams: [CBAMTraining?] = []
        var output: FeatureMapStorage?
    }

    let network: NetworkName
    let layers: [Layer]
    let parameters: [TrainedParameter]
    /// im2col/col2im scratch, reused by every forward and backward (not part of a tape: a
    /// trainer is used by one thread at a time).
    private let workspace = Workspace()

    /// The network `network` ("generator" or "face_encoder") from checkpoint tensors
    /// (spectral norm stored: `weight_orig`, `weight_u`, `weight_v`).
    init(network: NetworkName, config: ModelConfig, tensors: [String: [Float]]) throws {
        self.network = network
        let transposed = network == .generator
        let widths = transposed ? config.generatorWidths : config.faceWidths
        let (convIndex, cbamIndex, finalIndex) = TensorLayout.convIndices(layers: widths.count, cbam: config.arch.hasCBAM)
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
            let normalised = !last && i > 0 && config.arch.hasSpectralNorm
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
                        try parameter("\(q).spatial.weight", [1, 2, k, k]), h, k)
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

    /// Forward in training mode (one power iteration per spectrally normalised layer).
    func forward(_ input: FeatureMapStorage) throws -> Tape {
        let tape = Tape()
        var x = input
        for l in layers {
            var weight = l.weight.value
            if let s = l.spectral {
                let effective = try FloatStorage(count: l.weight.count)
                s.forward(weightOrig: l.weight.value.pointer, into: effective.pointer)
                tape.weights.append(effective)
                tape.snapshots.append(s.snapshot)
                weight = effective
            } else {
                tape.weights.append(nil)
                tape.snapshots.append(nil)
            }
            let (h, w) = l.transposed ? l.geometry.transposedOutput(h: x.height, w: x.width)! : l.geometry.convOutput(h: x.height, w: x.width)!
            let y = try FeatureMapStorage(channels: l.outChannels, batch: x.batch, height: h, width: w)
            let epilogue = Epilogue(scale: nil, shift: l.bias.value, activation: l.activation)
            if l.transposed {
                let conv = ConvTranspose2d(weight: weight, inChannels: l.inChannels, outChannels: l.outChannels, geometry: l.geometry)
                let cols = try workspace.slot(0, count: max(conv.scratchCount(batch: x.batch, h: x.height, w: x.width), 1))
                conv.forward(x.map, into: y.map, epilogue: epilogue, cols: cols)
            } else {
                let conv = Conv2d(weight: weight, inChannels: l.inChannels, outChannels: l.outChannels, geometry: l.geometry)
                let cols = try workspace.slot(0, count: max(conv.scratchCount(batch: x.batch, h: x.height, w: x.width), 1))
                conv.forward(x.map, into: y.map, epilogue: epilogue, cols: cols)
            }
            tape.inputs.append(x)
            tape.activated.append(y)
            if let a = l.cbam {
                let module = CBAM(channels: l.outChannels, hidden: a.hidden, reduce: a.reduce.value, expand: a.expand.value,
                                  spatial: Conv2d(weight: a.spatial.value, inChannels: 2, outChannels: 1,
                                                  geometry: .square(a.kernel, padding: a.kernel / 2)))
                let trainer = CBAMTraining(module)
                let out = try FeatureMapStorage(channels: l.outChannels, batch: x.batch, height: h, width: w)
                try trainer.forward(y.map, into: out.map)
                tape.cbams.append(trainer)
                x = out
            } else {
                tape.cbams.append(nil)
                x = y
            }
        }
        tape.output = x
        return tape
    }

    /// Backward of `tape`'s forward from dL/d(output); parameter gradients are ADDED unless
    /// `parameterGradients` is false (the G step's pass through f only needs dL/d(input)).
    /// Returns dL/d(input) when `inputGradient`.
    func backward(_ tape: Tape, gradOutput: FeatureMapStorage, inputGradient: Bool,
                  parameterGradients: Bool = true) throws -> FeatureMapStorage? {
        var dy = gradOutput
        for (i, l) in layers.enumerated().reversed() {
            let x = tape.inputs[i], y = tape.activated[i]
            var dAct = dy
            if let trainer = tape.cbams[i], let a = l.cbam {
                dAct = try FeatureMapStorage(channels: y.channels, batch: y.batch, height: y.height, width: y.width)
                // Without parameter gradients, CBAM's weight gradients go to throw-away scratch.
                let sink = parameterGradients ? nil : try workspace.slot(1, count: a.reduce.count + a.expand.count + a.spatial.count)
                try trainer.backward(input: y.map, gradOutput: dy.map, gradInput: dAct.map,
                                     gradReduce: sink ?? a.reduce.grad.pointer,
                                     gradExpand: sink.map { $0 + a.reduce.count } ?? a.expand.grad.pointer,
                                     gradSpatial: sink.map { $0 + a.reduce.count + a.expand.count } ?? a.spatial.grad.pointer)
            }
            l.activation.backward(output: y.storage.pointer, grad: dAct.storage.pointer, count: y.channels * y.batch * y.height * y.width)
            if parameterGradients { accumulateChannelSums(dAct.map, into: l.bias.grad.pointer) }
            let weight = tape.weights[i] ?? l.weight.value
            let gradWeight: FloatStorage? = !parameterGradients ? nil
                : (l.spectral == nil ? l.weight.grad : try FloatStorage(count: l.weight.count))
            if !parameterGradients && i == 0 && !inputGradient { return nil }
            let needInput = i > 0 || inputGradient
            let dx = needInput ? try FeatureMapStorage(channels: x.channels, batch: x.batch, height: x.height, width: x.width) : nil
            if l.transposed {
                let conv = ConvTranspose2d(weight: weight, inChannels: l.inChannels, outChannels: l.outChannels, geometry: l.geometry)
                let cols = try workspace.slot(0, count: max(conv.backwardScratchCount(batch: x.batch, h: x.height, w: x.width), 1))
                conv.backward(input: x.map, gradOutput: dAct.map, gradInput: dx?.map, gradWeight: gradWeight?.pointer,
                              gradBias: nil, cols: cols)
            } else {
                let conv = Conv2d(weight: weight, inChannels: l.inChannels, outChannels: l.outChannels, geometry: l.geometry)
                let cols = try workspace.slot(0, count: max(conv.backwardScratchCount(batch: x.batch, h: x.height, w: x.width), 1))
                conv.backward(input: x.map, gradOutput: dAct.map, gradInput: dx?.map, gradWeight: gradWeight?.pointer,
                              gradBias: nil, cols: cols)
            }
            if let s = l.spectral, let snap = tape.snapshots[i], let gradWeight {
                s.backward(weightOrig: l.weight.value.pointer, gradWeight: gradWeight.pointer,
                           gradWeightOrig: l.weight.grad.pointer, from: snap)
            }
            guard let dx else { return nil }
            dy = dx
        }
        return dy
    }
}

extension TrainableStack.Layer {
    typealias CBAMParameters = (reduce: TrainedParameter, expand: TrainedParameter, spatial: TrainedParameter, hidden: Int, kernel: Int)?
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
