/// A face-recognition network's forward pass recorded for its backward with respect to the
/// input (the identity loss: the network is frozen and in eval mode, every BatchNorm a fixed
/// per-channel affine map, so no parameter gradients are needed). Same arithmetic as
/// `forward`, but each layer's result is kept in its own buffer of the tape's workspace.
extension FaceNetwork {
    /// What the backward needs of one layer: the shapes, and before each activation its input.
    indirect enum Record {
        /// `pre`: the convolution's output after its scale and shift, before the activation.
        case conv(input: FeatureMap, pre: FeatureMap)
        case affine
        case linear(input: FeatureMap)
        case residual(body: [Record], shortcut: Record?, input: FeatureMap)
    }

    /// The recorded pass (its buffers are reused by the next forward on the same tape).
    final class Tape {
        let workspace = Workspace()
        var records: [Record] = []
        /// The next free workspace slot; slot 0 is im2col scratch, slot 1 a row buffer.
        var nextSlot = 2

        func map(channels: Int, batch: Int, height: Int, width: Int) throws -> FeatureMap {
            defer { nextSlot += 1 }
            return FeatureMap(data: try workspace.slot(nextSlot, count: channels * batch * height * width),
                              channels: channels, batch: batch, height: height, width: width)
        }
    }

    /// Embeddings `[embedDim, n, 1, 1]` (a view into the tape) of `input`, normalised images
    /// CNHW `[3, n, S, S]`, recording into `tape`.
    func trainingForward(_ input: FeatureMap, tape: Tape) throws -> FeatureMap {
        tape.nextSlot = 2
        tape.records = []
        var x = input
        for layer in layers {
            let (record, y) = try recordForward(layer, x, tape)
            tape.records.append(record)
            x = y
        }
        return x
    }

    /// The activation part of an epilogue, and the affine part without it.
    static func split(_ e: Epilogue) -> (affine: Epilogue, activation: Epilogue?) {
        let affine = Epilogue(scale: e.scale, shift: e.shift, activation: .identity)
        if e.slopes != nil { return (affine, Epilogue(scale: nil, shift: nil, activation: .identity, slopes: e.slopes)) }
        return (affine, e.activation == .identity ? nil : Epilogue(scale: nil, shift: nil, activation: e.activation))
    }

    private func recordForward(_ layer: Layer, _ x: FeatureMap, _ tape: Tape) throws -> (Record, FeatureMap) {
        switch layer {
        case let .conv(conv, epilogue):
            let (h, w) = conv.geometry.convOutput(h: x.height, w: x.width)!
            let pre = try tape.map(channels: conv.outChannels, batch: x.batch, height: h, width: w)
            let cols = try tape.workspace.slot(0, count: conv.scratchCount(batch: x.batch, h: x.height, w: x.width))
            let (affine, activation) = Self.split(epilogue)
            conv.forward(x, into: pre, epilogue: affine, cols: cols)
            guard let activation else { return (.conv(input: x, pre: pre), pre) }
            let y = try tape.map(channels: pre.channels, batch: pre.batch, height: h, width: w)
            y.data.update(from: pre.data, count: pre.channels * pre.row)
            activation.apply(to: y)
            return (.conv(input: x, pre: pre), y)
        case let .affine(epilogue):
            let y = try tape.map(channels: x.channels, batch: x.batch, height: x.height, width: x.width)
            y.data.update(from: x.data, count: x.channels * x.row)
            epilogue.apply(to: y)
            return (.affine, y)
        case let .linear(weight, inFeatures, outFeatures, epilogue):
            let n = x.batch
            let flat = try tape.workspace.slot(0, count: n * inFeatures)
            for c in 0..<x.channels {
                for i in 0..<n { (flat + i * inFeatures + c * x.plane).update(from: x.channel(c) + i * x.plane, count: x.plane) }
            }
            let rows = try tape.workspace.slot(1, count: n * outFeatures)
            BLAS.gemm(transB: true, m: n, n: outFeatures, k: inFeatures, a: flat, lda: inFeatures,
                      b: weight.pointer, ldb: inFeatures, c: rows, ldc: outFeatures)
            let y = try tape.map(channels: outFeatures, batch: n, height: 1, width: 1)
            for o in 0..<outFeatures { for i in 0..<n { y.channel(o)[i] = rows[i * outFeatures + o] } }
            epilogue.apply(to: y)
            return (.linear(input: x), y)
        case let .residual(body, shortcut):
            var records: [Record] = []
            var b = x
            for l in body {
                let (r, y) = try recordForward(l, b, tape)
                records.append(r)
                b = y
            }
            var side = x, shortcutRecord: Record? = nil
            if let shortcut { (shortcutRecord, side) = try recordForward(shortcut, x, tape) }
            let sum = try tape.map(channels: b.channels, batch: b.batch, height: b.height, width: b.width)
            let count = b.channels * b.row
            let (p, q) = (b.data, side.data)
            parallelBlocks(count, costPerItem: 1) { range in for k in range { sum.data[k] = p[k] + q[k] } }
            return (.residual(body: records, shortcut: shortcutRecord, input: x), sum)
        }
    }
}
