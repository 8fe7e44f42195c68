/// GFPGANv1Clean's reverse mode for one image, from the record of `trainingForward`: the
/// decoder level by level from the output down (ToRGB and its skip, the two StyleConvs with
/// CS-SFT between them, the condition branches into the U-Net), the U-Net's up blocks, the
/// style vectors back through the style MLP and NormStyleCode to the style code and its linear
/// layer, then the U-Net encoder. Gradients are ADDED under the enhancer file's tensor names
/// (`zeroGradients`); the stored noises and the U-Net's RGB heads get none.
extension EnhancerNetwork {
    /// Zeroed gradient buffers for every tensor of the enhancer's file layout.
    func zeroGradients() throws -> [String: FloatStorage] {
        var g: [String: FloatStorage] = [:]
        for t in EnhancerLayout.tensors(for: config) { g[t.name] = try FloatStorage(count: t.shape.reduce(1, *)) }
        return g
    }

    /// From `gradOutput` `[3, S, S]`, the gradient of the output image.
    func trainingBackward(_ pass: EnhancerTrainingPass, gradOutput: UnsafePointer<Float>, gradients g: [String: FloatStorage]) throws {
        let c = config, w = weights, s = c.styleDim, size = c.outSize, threads = Threads.count, ws = pass.scratch
        guard let x = pass.input, let stem = pass.stem, let final = pass.final, let code = pass.code, let latents = pass.latents,
              let start = pass.start, let first = pass.firstConv, pass.levels.count == c.levels.count else {
            throw AVPGANError.invalid("the enhancer's backward needs its training forward first")
        }
        let recorded = pass.slots
        defer { pass.slots = recorded }
        func p(_ name: String) -> UnsafeMutablePointer<Float> { g[name]!.pointer }
        func plain(_ name: String, bias: Bool = true) -> PlainConvGradients { .init(weight: p("\(name).weight"), bias: bias ? p("\(name).bias") : nil) }
        func block(_ name: String) -> ResidualBlockGradients {
            .init(conv1: plain("\(name).conv1"), conv2: plain("\(name).conv2"), skip: plain("\(name).skip", bias: false))
        }
        func modulated(_ name: String) -> ModulatedConvGradients {
            .init(weight: p("\(name).modulated_conv.weight"), modulationWeight: p("\(name).modulated_conv.modulation.weight"),
                  modulationBias: p("\(name).modulated_conv.modulation.bias"))
        }
        func styleGrads(_ name: String) -> StyleConvGradients { .init(conv: modulated(name), noiseWeight: p("\(name).weight"), bias: p("\(name).bias")) }
        func add(_ from: UnsafePointer<Float>, into to: UnsafeMutablePointer<Float>, _ count: Int) {
            parallelBlocks(count, costPerItem: 1) { range in for i in range { to[i] += from[i] } }
        }
        func zeroed(_ count: Int) throws -> UnsafeMutablePointer<Float> {
            let b = try pass.take(count)
            b.update(repeating: 0, count: count)
            return b
        }
        let d = "stylegan_decoder"
        let dLatents = try zeroed(c.latentCount * s)
        func dLatent(_ i: Int) -> UnsafeMutablePointer<Float> { dLatents + i * s }
        let downOut = try c.levels.indices.map { j -> UnsafeMutablePointer<Float> in
            let side = size >> (j + 1)
            return try zeroed(w.down[j].conv2.outChannels * side * side)
        }
        let unetOut = try c.levels.map { r in try zeroed(c.unetChannels(r) * r * r) }
        let dFinal = try zeroed(w.finalConv.outChannels * 16)
        let widest = ([4] + c.levels).map { max(c.decoderChannels($0), c.unetChannels($0), c.conditionChannels($0)) * $0 * $0 }.max()!
        let dConv = try pass.take(widest), dMod = try pass.take(widest), dCarry = try pass.take(widest), dCarryNext = try pass.take(widest)
        let dScale = try pass.take(widest), dShift = try pass.take(widest), dHidden = try pass.take(widest), dTemp = try pass.take(widest)
        var dRGB = try pass.take(3 * size * size), dRGBPrevious = try pass.take(3 * size * size)
        dRGB.update(from: gradOutput, count: 3 * size * size)
        func work(_ count: Int) throws -> UnsafeMutablePointer<Float> { try ws.slot(0, count: count) }

        for (j, r) in c.levels.enumerated().reversed() {
            let level = pass.levels[j], half = r / 2, dc = c.decoderChannels(r)
            let previous = j > 0 ? UnsafePointer(pass.levels[j - 1].conv) : UnsafePointer(first)
            let toRGB = w.toRGBs[j], conv2 = w.styleConvs[2 * j + 1], conv1 = w.styleConvs[2 * j]
            toRGB.backward(input: level.conv, side: r, style: latents + (2 * j + 3) * s, gradOutput: dRGB, gradInput: dConv,
                           gradSkip: dRGBPrevious, gradients: .init(conv: modulated("\(d).to_rgbs.\(j)"), bias: p("\(d).to_rgbs.\(j).bias")),
                           gradStyle: dLatent(2 * j + 3), threads: threads, scratch: try work(toRGB.trainingScratchCount(side: r, threads: threads)))
            if j < c.levels.count - 1 { add(dCarry, into: dConv, dc * r * r) }
            conv2.backward(input: level.modulated, side: r, style: latents + (2 * j + 2) * s, noise: pass.noises[2 * j + 2], output: level.conv,
                           gradOutput: dConv, gradInput: dMod, gradients: styleGrads("\(d).style_convs.\(2 * j + 1)"), gradStyle: dLatent(2 * j + 2),
                           threads: threads, scratch: try work(conv2.trainingScratchCount(side: r, threads: threads)))
            CSSFT.backward(input: level.upConv, channels: dc, first: c.sftFirstChannel(r), plane: r * r, scale: level.scale, gradOutput: dMod,
                           gradInput: dMod, gradScale: dScale, gradShift: dShift)
            conv1.backward(input: previous, side: half, style: latents + (2 * j + 1) * s, noise: pass.noises[2 * j + 1], output: level.upConv,
                           gradOutput: dMod, gradInput: dCarryNext, gradients: styleGrads("\(d).style_convs.\(2 * j)"), gradStyle: dLatent(2 * j + 1),
                           threads: threads, scratch: try work(conv1.trainingScratchCount(side: half, threads: threads)))
            dCarry.update(from: dCarryNext, count: conv1.conv.inChannels * half * half)
            // The condition branches into the U-Net's output at this level.
            for (branch, hidden, grad, name) in [(w.conditionScale[j], level.scaleHidden, dScale, "condition_scale"),
                                                  (w.conditionShift[j], level.shiftHidden, dShift, "condition_shift")] {
                try branch.1.backward(input: hidden, side: r, output: hidden, lrelu: false, gradOutput: grad, gradInput: dHidden,
                                      gradients: plain("\(name).\(j).2"), threads: threads, scratch: ws)
                try branch.0.backward(input: level.unetOutput, side: r, output: hidden, lrelu: true, gradOutput: dHidden, gradInput: dTemp,
                                      gradients: plain("\(name).\(j).0"), threads: threads, scratch: ws)
                add(dTemp, into: unetOut[j], c.unetChannels(r) * r * r)
            }
            // The U-Net's up block; its input was the previous feature plus the encoder's skip.
            try w.up[j].backward(input: level.unetInput, side: half, record: level.block, gradOutput: unetOut[j], gradInput: dTemp,
                                 gradients: block("conv_body_up.\(j)"), threads: threads, scratch: ws)
            let n = c.unetChannels(half) * half * half
            add(dTemp, into: downOut[c.levels.count - 1 - j], n)
            add(dTemp, into: j > 0 ? unetOut[j - 1] : dFinal, n)
            swap(&dRGB, &dRGBPrevious)
        }
        // The 4 px start: ToRGB1, StyleConv1 and the constant.
        w.toRGB1.backward(input: first, side: 4, style: latents + s, gradOutput: dRGB, gradInput: dConv, gradSkip: nil,
                          gradients: .init(conv: modulated("\(d).to_rgb1"), bias: p("\(d).to_rgb1.bias")), gradStyle: dLatent(1),
                          threads: threads, scratch: try work(w.toRGB1.trainingScratchCount(side: 4, threads: threads)))
        add(dCarry, into: dConv, w.styleConv1.conv.outChannels * 16)
        w.styleConv1.backward(input: start, side: 4, style: latents, noise: pass.noises[0], output: first, gradOutput: dConv, gradInput: dTemp,
                              gradients: styleGrads("\(d).style_conv1"), gradStyle: dLatent(0), threads: threads,
                              scratch: try work(w.styleConv1.trainingScratchCount(side: 4, threads: threads)))
        add(dTemp, into: p("\(d).constant_input.weight"), w.constant.count)
        // Style vectors -> style code -> its linear layer.
        let dCode = try styleCodeGradient(dLatents, code: code, pass: pass, gradients: g)
        let features = 16 * w.finalConv.outChannels
        BLAS.gemm(m: c.styleCodeLength, n: features, k: 1, a: dCode, lda: 1, b: final, ldb: features, beta: 1, c: p("final_linear.weight"), ldc: features)
        add(dCode, into: p("final_linear.bias"), c.styleCodeLength)
        BLAS.gemv(trans: true, rows: c.styleCodeLength, cols: features, a: w.linearWeight.pointer, lda: features, x: dCode, beta: 1, y: dFinal)
        // The U-Net encoder, last block first.
        try w.finalConv.backward(input: pass.down.last!.output, side: 4, output: final, lrelu: true, gradOutput: dFinal, gradInput: dTemp,
                                 gradients: plain("final_conv"), threads: threads, scratch: ws)
        add(dTemp, into: downOut[c.levels.count - 1], w.finalConv.inChannels * 16)
        for j in c.levels.indices.reversed() {
            let side = size >> j, input = j > 0 ? UnsafePointer(pass.down[j - 1].output) : UnsafePointer(stem)
            try w.down[j].backward(input: input, side: side, record: pass.down[j].record, gradOutput: downOut[j], gradInput: dTemp,
                                   gradients: block("conv_body_down.\(j)"), threads: threads, scratch: ws)
            if j > 0 { add(dTemp, into: downOut[j - 1], w.down[j].conv1.inChannels * side * side) }
        }
        try w.stem.backward(input: x, side: size, output: stem, lrelu: true, gradOutput: dTemp, gradInput: nil, gradients: plain("conv_body_first"),
                            threads: threads, scratch: ws)
    }

    /// The style code's gradient `[styleCodeLength]` from the style vectors' `[latentCount, S]`:
    /// summed over the repeats of one vector, back through the style MLP and NormStyleCode
    /// unless `input_is_latent`. The MLP's gradients are ADDED.
    private func styleCodeGradient(_ dLatents: UnsafeMutablePointer<Float>, code: UnsafePointer<Float>, pass: EnhancerTrainingPass,
                                   gradients g: [String: FloatStorage]) throws -> UnsafeMutablePointer<Float> {
        let c = config, s = c.styleDim, vectors = c.differentW ? c.latentCount : 1
        let dCode = try pass.take(vectors * s)
        dCode.update(from: dLatents, count: vectors * s)
        if !c.differentW { for l in 1..<c.latentCount { for f in 0..<s { dCode[f] += dLatents[l * s + f] } } }
        guard !c.inputIsLatent, let normalized = pass.normalized else { return dCode }
        let dPre = try pass.take(s)
        for v in 0..<vectors {
            let dy = dCode + v * s
            for (k, (weight, _)) in weights.mlp.enumerated().reversed() {
                let y = pass.mlp[v][k], x = k > 0 ? UnsafePointer(pass.mlp[v][k - 1]) : UnsafePointer(normalized + v * s)
                for f in 0..<s { dPre[f] = y[f] > 0 ? dy[f] : 0.2 * dy[f] }
                let name = "stylegan_decoder.style_mlp.\(2 * k + 1)"
                for f in 0..<s { g["\(name).bias"]!.pointer[f] += dPre[f] }
                BLAS.gemm(m: s, n: s, k: 1, a: dPre, lda: 1, b: x, ldb: s, beta: 1, c: g["\(name).weight"]!.pointer, ldc: s)
                BLAS.gemv(trans: true, rows: s, cols: s, a: weight.pointer, lda: s, x: dPre, y: dy)
            }
        }
        // NormStyleCode: y = x r, r = (mean x² + 1e-8)^(-1/2) over the layers ([L, S]) or the features.
        func normBackward(_ indices: [Int], count: Int) {
            var squares: Float = 0, dot: Float = 0
            for i in indices { squares += code[i] * code[i]; dot += dCode[i] * code[i] }
            let r = 1 / (squares / Float(count) + 1e-8).squareRoot(), along = r * r * r * dot / Float(count)
            for i in indices { dCode[i] = r * dCode[i] - along * code[i] }
        }
        if vectors > 1 {
            for f in 0..<s { normBackward((0..<vectors).map { $0 * s + f }, count: vectors) }
        } else {
            normBackward(Array(0..<s), count: s)
        }
        return dCode
    }
}
