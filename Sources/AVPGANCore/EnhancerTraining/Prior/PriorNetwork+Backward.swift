/// The prior's reverse mode from the record of a `trainingForward`: each image's synthesis
/// from the RGB down (ToRGB and its skip, the two StyleConvs per level, StyleConv 1 into the
/// constant), giving the style vectors' gradient `[N, L, S]`; from a forward that started at z,
/// those are summed per source vector (style mixing) and taken back through the style MLP.
/// Parameter gradients are ADDED under upstream's names (`zeroGradients`).
extension PriorNetwork {
    /// The parameters' names: every tensor but the stored noises, in state_dict order.
    var parameterNames: [String] {
        let noises = Set(config.noiseNames)
        return config.tensors.map(\.name).filter { !noises.contains($0) }
    }

    /// Zeroed gradient buffers for every parameter.
    func zeroGradients() throws -> [String: FloatStorage] {
        var out: [String: FloatStorage] = [:]
        for name in parameterNames { out[name] = try FloatStorage(count: values[name]!.count) }
        return out
    }

    /// - Parameters:
    ///   - gradImages: `dImages[N, 3, S, S]`.
    ///   - gradients: the parameters' gradients, ADDED.
    ///   - gradLatents: if non-nil, OVERWRITTEN with the style vectors' gradient `[N, L, S]`.
    ///   - gradZ: if non-nil (and the forward started at z), OVERWRITTEN with dz `[V, N, S]`.
    ///   - frozen: the pass whose pattern the forward was `frozen` to: its outputs choose the
    ///     LeakyReLU slopes here too.
    func trainingBackward(_ pass: PriorTrainingPass, gradImages: UnsafePointer<Float>, gradients g: [String: FloatStorage],
                          gradLatents: UnsafeMutablePointer<Float>? = nil, gradZ: UnsafeMutablePointer<Float>? = nil,
                          frozen: PriorTrainingPass? = nil) throws {
        let c = config, s = c.styleDim, size = c.outSize, n = pass.images.count, threads = Threads.count, ws = pass.scratch
        guard n > 0 else { throw AVPGANError.invalid("the prior's backward needs its training forward first") }
        let recorded = pass.slots
        defer { pass.slots = recorded }
        func p(_ name: String) -> UnsafeMutablePointer<Float> { g[name]!.pointer }
        func modulated(_ name: String) -> ModulatedConvGradients {
            .init(weight: p("\(name).modulated_conv.weight"), modulationWeight: p("\(name).modulated_conv.modulation.weight"),
                  modulationBias: p("\(name).modulated_conv.modulation.bias"))
        }
        func styleGrads(_ name: String) -> StyleConvGradients { .init(conv: modulated(name), noiseWeight: p("\(name).weight"), bias: p("\(name).bias")) }
        func rgbGrads(_ name: String) -> ToRGBGradients { .init(conv: modulated(name), bias: p("\(name).bias")) }
        func work(_ count: Int) throws -> UnsafeMutablePointer<Float> { try ws.slot(0, count: count) }
        let widest = ([4] + c.levels).map { c.channels($0) * $0 * $0 }.max()!
        let dConv = try pass.take(widest), dMod = try pass.take(widest), dCarry = try pass.take(widest), dTemp = try pass.take(widest)
        var dRGB = try pass.take(3 * size * size), dRGBPrevious = try pass.take(3 * size * size)
        let dLatents = try pass.take(n * c.latentCount * s)
        dLatents.update(repeating: 0, count: n * c.latentCount * s)
        for (i, image) in pass.images.enumerated() {
            let latents = UnsafePointer(image.latents), dStyles = dLatents + i * c.latentCount * s
            // StyleConv.backward reads its output only for LeakyReLU's slopes.
            let slopes = frozen?.images[i] ?? image
            func style(_ l: Int) -> UnsafePointer<Float> { latents + l * s }
            dRGB.update(from: gradImages + i * 3 * size * size, count: 3 * size * size)
            for (j, r) in c.levels.enumerated().reversed() {
                let level = image.levels[j], half = r / 2, d = c.channels(r)
                let previous = j > 0 ? UnsafePointer(image.levels[j - 1].conv) : UnsafePointer(image.firstConv)
                let toRGB = toRGBs[j], conv2 = styleConvs[2 * j + 1], conv1 = styleConvs[2 * j]
                toRGB.backward(input: level.conv, side: r, style: style(2 * j + 3), gradOutput: dRGB, gradInput: dConv, gradSkip: dRGBPrevious,
                               gradients: rgbGrads("to_rgbs.\(j)"), gradStyle: dStyles + (2 * j + 3) * s, threads: threads,
                               scratch: try work(toRGB.trainingScratchCount(side: r, threads: threads)))
                if j < c.levels.count - 1 { for k in 0..<(d * r * r) { dConv[k] += dCarry[k] } }
                conv2.backward(input: level.upConv, side: r, style: style(2 * j + 2), noise: image.noises[2 * j + 2], output: slopes.levels[j].conv,
                               gradOutput: dConv, gradInput: dMod, gradients: styleGrads("style_convs.\(2 * j + 1)"),
                               gradStyle: dStyles + (2 * j + 2) * s, threads: threads,
                               scratch: try work(conv2.trainingScratchCount(side: r, threads: threads)))
                conv1.backward(input: previous, side: half, style: style(2 * j + 1), noise: image.noises[2 * j + 1], output: slopes.levels[j].upConv,
                               gradOutput: dMod, gradInput: dCarry, gradients: styleGrads("style_convs.\(2 * j)"),
                               gradStyle: dStyles + (2 * j + 1) * s, threads: threads,
                               scratch: try work(conv1.trainingScratchCount(side: half, threads: threads)))
                swap(&dRGB, &dRGBPrevious)
            }
            toRGB1.backward(input: image.firstConv, side: 4, style: style(1), gradOutput: dRGB, gradInput: dConv, gradSkip: nil,
                            gradients: rgbGrads("to_rgb1"), gradStyle: dStyles + s, threads: threads,
                            scratch: try work(toRGB1.trainingScratchCount(side: 4, threads: threads)))
            let d4 = c.channels(4) * 16
            for k in 0..<d4 { dConv[k] += dCarry[k] }
            styleConv1.backward(input: constant.pointer, side: 4, style: style(0), noise: image.noises[0], output: slopes.firstConv,
                                gradOutput: dConv, gradInput: dTemp, gradients: styleGrads("style_conv1"), gradStyle: dStyles, threads: threads,
                                scratch: try work(styleConv1.trainingScratchCount(side: 4, threads: threads)))
            let dConstant = p("constant_input.weight")
            for k in 0..<d4 { dConstant[k] += dTemp[k] }
        }
        gradLatents?.update(from: dLatents, count: n * c.latentCount * s)
        try styleBackward(pass, gradLatents: dLatents, gradients: g, gradZ: gradZ)
    }

    /// From the style vectors' gradient `[N, L, S]` of a forward that started at z (nothing
    /// otherwise): each slot's gradient to the w it was copied from (style mixing), then back
    /// through the style MLP, its gradients ADDED; `gradZ` OVERWRITTEN if non-nil.
    func styleBackward(_ pass: PriorTrainingPass, gradLatents dLatents: UnsafePointer<Float>, gradients g: [String: FloatStorage],
                       gradZ: UnsafeMutablePointer<Float>?) throws {
        let c = config, s = c.styleDim, n = pass.images.count
        guard let styles = pass.styles, let record = pass.mlpRecord else { return }
        let recorded = pass.slots
        defer { pass.slots = recorded }
        func p(_ name: String) -> UnsafeMutablePointer<Float> { g[name]!.pointer }
        let v = styles.vectors, dW = try pass.take(v * n * s)
        dW.update(repeating: 0, count: v * n * s)
        for i in 0..<n {
            for l in 0..<c.latentCount {
                let to = dW + (styles.source(ofLayer: l) * n + i) * s, from = dLatents + (i * c.latentCount + l) * s
                for f in 0..<s { to[f] += from[f] }
            }
        }
        let mlpGradients = StyleMLPGradients(layers: (0..<c.mlpLayers).map { (p(Self.mlpName($0, "weight")), p(Self.mlpName($0, "bias"))) })
        let mlpScratch = try pass.take(mlp.backwardScratchCount(vectors: v * n))
        styles.z.withUnsafeBufferPointer { z in
            mlp.backward(z.baseAddress!, vectors: v * n, record: record, gradOutput: dW, gradients: mlpGradients, gradInput: gradZ,
                         scratch: mlpScratch)
        }
    }
}
