/// A face-recognition network built from its `FaceLayerSpec`s and a file's tensors, run on a
/// batch of normalised images `[3, N, S, S]` (CNHW, like every network of the library):
/// convolutions are GEMMs (depthwise ones a direct kernel), each BatchNorm is folded at load
/// into the scale and shift of the layer before it, or kept as a per-channel affine map.
final class FaceNetwork {
    indirect enum Layer {
        case conv(Conv2d, Epilogue)
        /// A standalone BatchNorm: `y = x * scale + shift` per channel.
        case affine(Epilogue)
        case linear(weight: FloatStorage, inFeatures: Int, outFeatures: Int, Epilogue)
        case residual(body: [Layer], shortcut: Layer?)
    }

    let config: FaceModelConfig
    let layers: [Layer]
    let parameterCount: Int
    /// Floats of the largest activation of one image, and of the largest im2col scratch.
    private let largestActivation: Int
    private let largestScratch: Int

    /// `specs`: the layers, `config.arch`'s unless given (the identity loss's tests build
    /// narrow networks of the same layer kinds).
    init(file: Safetensors, config: FaceModelConfig, specs: [FaceLayerSpec]? = nil) throws {
        self.config = config
        let specs = specs ?? FaceLayerSpec.layers(for: config)
        let expected = specs.flatMap { $0.tensors(config.batchNorm) }
        let tensors = try CheckedTensors(
            file: file, expected: expected,
            missing: "arch \(config.arch.rawValue), batch_norm \(config.batchNorm.rawValue)",
            extra: "an \(config.arch.rawValue) face model with batch_norm \(config.batchNorm.rawValue)")
        let builder = Builder(tensors: tensors, config: config)
        layers = try specs.map(builder.build)
        parameterCount = expected.reduce(0) { $0 + $1.shape.reduce(1, *) }

        var shape = Shape(channels: 3, height: config.inputSize, width: config.inputSize)
        var largest = shape.count, scratch = 0
        for layer in layers { shape = try FaceNetwork.trace(layer, shape, &largest, &scratch) }
        guard shape.height == 1, shape.width == 1, shape.channels == config.embedDim else {
            throw AVPGANError.format("an \(config.arch.rawValue) network on \(config.inputSize)x\(config.inputSize) inputs ends in \(shape.channels)x\(shape.height)x\(shape.width), not \(config.embedDim)x1x1")
        }
        largestActivation = largest
        largestScratch = scratch
    }

    // MARK: Shapes

    struct Shape {
        var channels, height, width: Int
        var count: Int { channels * height * width }
    }

    /// The output shape of `layer` for one image of `shape`, tracking the largest map and
    /// im2col scratch along the way; a layer that does not fit its input is a format error.
    private static func trace(_ layer: Layer, _ shape: Shape, _ largest: inout Int, _ scratch: inout Int) throws -> Shape {
        var out = shape
        switch layer {
        case let .conv(conv, _):
            guard conv.inChannels == shape.channels, let (h, w) = conv.geometry.convOutput(h: shape.height, w: shape.width) else {
                throw AVPGANError.format("a \(conv.inChannels)-channel convolution cannot take a \(shape.channels)x\(shape.height)x\(shape.width) map")
            }
            out = Shape(channels: conv.outChannels, height: h, width: w)
            scratch = max(scratch, conv.scratchCount(batch: 1, h: shape.height, w: shape.width))
        case .affine:
            break
        case let .linear(_, inFeatures, outFeatures, _):
            guard inFeatures == shape.count else {
                throw AVPGANError.format("the linear layer takes \(inFeatures) features but gets \(shape.channels)x\(shape.height)x\(shape.width)")
            }
            out = Shape(channels: outFeatures, height: 1, width: 1)
            scratch = max(scratch, inFeatures)
        case let .residual(body, shortcut):
            for l in body { out = try trace(l, out, &largest, &scratch) }
            let side = try shortcut.map { try trace($0, shape, &largest, &scratch) } ?? shape
            guard side.channels == out.channels, side.height == out.height, side.width == out.width else {
                throw AVPGANError.format("a residual block's shortcut (\(side.channels)x\(side.height)x\(side.width)) does not match its body (\(out.channels)x\(out.height)x\(out.width))")
            }
        }
        largest = max(largest, out.count)
        return out
    }

    // MARK: Forward

    /// Images per pass: bounds the activation memory of a batch to about 8 Mi floats a slot.
    var chunkSize: Int { max(1, min(64, (8 << 20) / largestActivation)) }

    /// Embeddings `out[n, embedDim]` of `n <= chunkSize` images that `fill` writes, normalised,
    /// as `[3, n, S, S]` (CNHW) into the pointer it is given.
    func forward(count n: Int, workspace: Workspace, fill: (UnsafeMutablePointer<Float>) throws -> Void,
                 into out: UnsafeMutablePointer<Float>) throws {
        precondition(n >= 1 && n <= chunkSize)
        var slots: [UnsafeMutablePointer<Float>] = []
        for i in 0..<5 { slots.append(try workspace.slot(i, count: n * largestActivation)) }
        let cols = try workspace.slot(5, count: n * largestScratch)
        try fill(slots[0])
        var run = Runner(slots: slots, cols: cols, batch: n)
        let size = config.inputSize
        let result = run.sequence(layers, input: 0, shape: Shape(channels: 3, height: size, width: size))
        let map = run.map(result.slot, result.shape)
        for e in 0..<config.embedDim { for i in 0..<n { out[i * config.embedDim + e] = map.channel(e)[i] } }
    }

    /// Runs layers over numbered activation buffers; a residual block keeps its input's buffer
    /// busy until the sum, so five buffers cover every block (input, two for the body's
    /// ping-pong, one for the shortcut, one spare).
    private struct Runner {
        let slots: [UnsafeMutablePointer<Float>]
        let cols: UnsafeMutablePointer<Float>
        let batch: Int
        var busy: Set<Int> = []

        init(slots: [UnsafeMutablePointer<Float>], cols: UnsafeMutablePointer<Float>, batch: Int) {
            self.slots = slots
            self.cols = cols
            self.batch = batch
        }

        func map(_ slot: Int, _ s: Shape) -> FeatureMap {
            FeatureMap(data: slots[slot], channels: s.channels, batch: batch, height: s.height, width: s.width)
        }

        /// A buffer neither busy nor in `keep`.
        func free(except keep: Set<Int>) -> Int {
            (0..<slots.count).first { !busy.contains($0) && !keep.contains($0) }!
        }

        mutating func sequence(_ layers: [Layer], input: Int, shape: Shape) -> (slot: Int, shape: Shape) {
            var current = (slot: input, shape: shape)
            for layer in layers { current = apply(layer, current.slot, current.shape) }
            return current
        }

        /// Applies `layer` to the map in `slot`, writing a different free slot (never `slot`).
        mutating func apply(_ layer: Layer, _ slot: Int, _ shape: Shape) -> (slot: Int, shape: Shape) {
            let x = map(slot, shape)
            switch layer {
            case let .conv(conv, epilogue):
                let (h, w) = conv.geometry.convOutput(h: shape.height, w: shape.width)!
                let outShape = Shape(channels: conv.outChannels, height: h, width: w)
                let target = free(except: [slot])
                conv.forward(x, into: map(target, outShape), epilogue: epilogue, cols: cols)
                return (target, outShape)
            case let .affine(epilogue):
                let target = free(except: [slot])
                map(target, shape).data.update(from: x.data, count: shape.channels * x.row)
                epilogue.apply(to: map(target, shape))
                return (target, shape)
            case let .linear(weight, inFeatures, outFeatures, epilogue):
                // Each image's channel-major vector, then one GEMM for the batch: y = X Wᵀ.
                for c in 0..<shape.channels {
                    for i in 0..<batch {
                        (cols + i * inFeatures + c * x.plane).update(from: x.channel(c) + i * x.plane, count: x.plane)
                    }
                }
                let outShape = Shape(channels: outFeatures, height: 1, width: 1)
                let target = free(except: [slot])
                let y = map(target, outShape)
                let rows = slots[free(except: [slot, target])]
                BLAS.gemm(transB: true, m: batch, n: outFeatures, k: inFeatures, a: cols, lda: inFeatures,
                          b: weight.pointer, ldb: inFeatures, c: rows, ldc: outFeatures)
                for o in 0..<outFeatures { for i in 0..<batch { y.channel(o)[i] = rows[i * outFeatures + o] } }
                epilogue.apply(to: y)
                return (target, outShape)
            case let .residual(body, shortcut):
                busy.insert(slot)
                let result = sequence(body, input: slot, shape: shape)
                busy.insert(result.slot)
                let side = shortcut.map { apply($0, slot, shape).slot } ?? slot
                busy.remove(result.slot)
                busy.remove(slot)
                let sum = map(result.slot, result.shape), other = map(side, result.shape)
                let count = result.shape.channels * sum.row
                parallelBlocks(count, costPerItem: 1) { range in
                    for k in range { sum.data[k] += other.data[k] }
                }
                return result
            }
        }
    }

    // MARK: Loading

    /// Turns specs into layers, folding each BatchNorm into the layer before it.
    private struct Builder {
        let tensors: CheckedTensors
        let config: FaceModelConfig

        func build(_ spec: FaceLayerSpec) throws -> Layer {
            switch spec {
            case let .conv(name, i, o, g, bias, bn, activation):
                let conv = Conv2d(weight: try tensors.storage("\(name).weight"), inChannels: i, outChannels: o,
                                  geometry: g, splitsWideColumns: true)
                return .conv(conv, try epilogue(bias: bias || (bn != nil && config.batchNorm == .folded) ? "\(name).bias" : nil,
                                                bn: config.batchNorm == .stored ? bn : nil, activation: activation))
            case let .batchNorm(name, _):
                return .affine(try epilogue(bias: nil, bn: name, activation: .none))
            case let .linear(name, i, o, bn):
                return .linear(weight: try tensors.storage("\(name).weight"), inFeatures: i, outFeatures: o,
                               try epilogue(bias: "\(name).bias", bn: config.batchNorm == .stored ? bn : nil, activation: .none))
            case let .residual(body, shortcut):
                return .residual(body: try body.map(build), shortcut: try shortcut.map(build))
            }
        }

        /// `activation(BN(x + bias))` as one scale and shift per channel.
        private func epilogue(bias: String?, bn: String?, activation: FaceLayerSpec.Activation) throws -> Epilogue {
            var scale: FloatStorage?
            var shift = try bias.map { try tensors.storage($0) }
            if let bn {
                // BN(x + b) = x * s + (beta - (mean - b) * s): the bias moves the mean.
                let variance = try tensors.floats("\(bn).running_var")
                if let bad = variance.firstIndex(where: { !($0 + config.batchNormEps > 0) }) {
                    throw AVPGANError.format("tensor \(bn).running_var is \(variance[bad]) at channel \(bad); a variance must not be negative")
                }
                var mean = try tensors.floats("\(bn).running_mean")
                if let b = shift { for c in mean.indices { mean[c] -= b.pointer[c] } }
                (scale, shift) = try BatchNorm.fold(gamma: tensors.floats("\(bn).weight"), beta: tensors.floats("\(bn).bias"),
                                                    mean: mean, variance: variance,
                                                    eps: config.batchNormEps)
            }
            switch activation {
            case .none: return Epilogue(scale: scale, shift: shift, activation: .identity)
            case .relu: return Epilogue(scale: scale, shift: shift, activation: .relu)
            case .relu6: return Epilogue(scale: scale, shift: shift, activation: .relu6)
            case let .prelu(p):
                return Epilogue(scale: scale, shift: shift, activation: .identity, slopes: try tensors.storage("\(p).weight"))
            }
        }
    }
}
