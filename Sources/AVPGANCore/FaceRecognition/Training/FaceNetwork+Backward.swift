/// Reverse mode of `trainingForward` with respect to the input image only, layer by layer:
/// convolutions (GEMM ones by `Conv2d.backward`, depthwise ones by
/// `DepthwiseConv.backwardInput`), the BatchNorm scale of each epilogue, ReLU, ReLU6 (torch's
/// hardtanh: gradient where 0 < v < 6) and PReLU (`v > 0 ? 1 : slope`), standalone BatchNorms,
/// the flatten + linear head, and residual sums.
extension FaceNetwork {
    /// `gradInput` (OVERWRITTEN, CNHW like the forward's input) gets dL/dinput for
    /// `gradEmbeddings`, dL/d(embeddings) as `[embedDim, n, 1, 1]` (the layout `trainingForward`
    /// returns; not modified). Uses further buffers of the tape's workspace; the records stay valid.
    func backwardInput(tape: Tape, gradEmbeddings: FeatureMap, into gradInput: FeatureMap) throws {
        var g = try tape.map(channels: gradEmbeddings.channels, batch: gradEmbeddings.batch, height: 1, width: 1)
        g.data.update(from: gradEmbeddings.data, count: g.channels * g.row)
        for (layer, record) in zip(layers, tape.records).reversed() {
            g = try backward(layer, record, g, tape)
        }
        precondition(g.channels == gradInput.channels && g.row == gradInput.row)
        gradInput.data.update(from: g.data, count: g.channels * g.row)
    }

    /// Multiplies each channel row of `g` by `scale[c]` (in place), when there is a scale.
    private static func scaleChannels(_ g: FeatureMap, by scale: FloatStorage?) {
        guard let scale else { return }
        parallelFor(g.channels, costPerItem: g.row) { c in
            let s = scale.pointer[c], row = g.channel(c)
            for i in 0..<g.row { row[i] *= s }
        }
    }

    /// dL/d(layer input) for dL/d(layer output) `g` (a new buffer; `g` may be overwritten).
    private func backward(_ layer: Layer, _ record: Record, _ g: FeatureMap, _ tape: Tape) throws -> FeatureMap {
        switch (layer, record) {
        case let (.conv(conv, epilogue), .conv(input, pre)):
            let count = g.channels * g.row
            let v = pre.data, d = g.data
            if let slopes = epilogue.slopes {
                parallelFor(g.channels, costPerItem: g.row) { c in
                    let a = slopes.pointer[c], base = c * g.row
                    for i in base..<(base + g.row) where !(v[i] > 0) { d[i] *= a }
                }
            } else {
                switch epilogue.activation {
                case .relu: parallelBlocks(count, costPerItem: 1) { r in for i in r where !(v[i] > 0) { d[i] = 0 } }
                case .relu6: parallelBlocks(count, costPerItem: 1) { r in for i in r where !(v[i] > 0 && v[i] < 6) { d[i] = 0 } }
                case .identity: break
                default: preconditionFailure("face networks use ReLU, ReLU6, PReLU or none")
                }
            }
            Self.scaleChannels(g, by: epilogue.scale)
            let dx = try tape.map(channels: input.channels, batch: input.batch, height: input.height, width: input.width)
            if conv.isDepthwise {
                DepthwiseConv.backwardInput(g, weight: conv.weight.pointer, geometry: conv.geometry, into: dx)
            } else {
                let cols = try tape.workspace.slot(0, count: conv.backwardScratchCount(batch: input.batch, h: input.height, w: input.width))
                conv.backward(input: input, gradOutput: g, gradInput: dx, gradWeight: nil, gradBias: nil, cols: cols)
            }
            return dx
        case let (.affine(epilogue), .affine):
            Self.scaleChannels(g, by: epilogue.scale)
            return g
        case let (.linear(weight, inFeatures, outFeatures, epilogue), .linear(input)):
            Self.scaleChannels(g, by: epilogue.scale)
            let n = input.batch
            let rows = try tape.workspace.slot(1, count: n * outFeatures)
            for o in 0..<outFeatures { for i in 0..<n { rows[i * outFeatures + o] = g.channel(o)[i] } }
            let flat = try tape.workspace.slot(0, count: n * inFeatures)
            BLAS.gemm(m: n, n: inFeatures, k: outFeatures, a: rows, lda: outFeatures, b: weight.pointer, ldb: inFeatures,
                      c: flat, ldc: inFeatures)
            let dx = try tape.map(channels: input.channels, batch: n, height: input.height, width: input.width)
            for c in 0..<input.channels {
                for i in 0..<n { (dx.channel(c) + i * input.plane).update(from: flat + i * inFeatures + c * input.plane, count: input.plane) }
            }
            return dx
        case let (.residual(body, shortcut), .residual(bodyRecords, shortcutRecord, input)):
            // The shortcut first: the body's backward may overwrite g.
            var side: FeatureMap
            if let shortcut, let shortcutRecord {
                let copy = try tape.map(channels: g.channels, batch: g.batch, height: g.height, width: g.width)
                copy.data.update(from: g.data, count: g.channels * g.row)
                side = try backward(shortcut, shortcutRecord, copy, tape)
            } else {
                side = try tape.map(channels: g.channels, batch: g.batch, height: g.height, width: g.width)
                side.data.update(from: g.data, count: g.channels * g.row)
            }
            var b = g
            for (l, r) in zip(body, bodyRecords).reversed() { b = try backward(l, r, b, tape) }
            let count = input.channels * input.row
            let (p, q) = (b.data, side.data)
            parallelBlocks(count, costPerItem: 1) { range in for k in range { p[k] += q[k] } }
            return b
        default:
            preconditionFailure("the tape does not match the network")
        }
    }
}
