/// The discriminator's reverse mode, from the record of its last forward.
extension StyleGAN2Discriminator {
    /// From `gradScores[N]` (dL/dscore), ADDS every parameter's gradient to `gradients` (from
    /// `zeroGradients`) and, if `gradImages` is given, OVERWRITES it with dL/dimages
    /// `[N, 3, S, S]` (NCHW). Scratch comes from the pass's workspace after the forward's.
    /// `frozen`: the pass whose LeakyReLU pattern the forward took, if any.
    func backward(_ pass: DiscriminatorPass, gradScores: [Float], gradients: [String: FloatStorage],
                  gradImages: UnsafeMutablePointer<Float>?, frozen: DiscriminatorPass? = nil) throws {
        let n = pass.batch, l = last, s = config.size, sqrt2 = Float(2).squareRoot()
        guard gradScores.count == n, let joined = pass.joined, let final = pass.final, let flat = pass.flat, let hidden = pass.hidden,
              let cols = pass.cols, let x = pass.input, let stemOut = pass.stem else {
            throw AVPGANError.invalid("discriminator backward needs the forward of the same batch first (\(gradScores.count) gradients, batch \(n))")
        }
        let first = pass.slots
        defer { pass.slots = first }
        // The linear layers: score = s1 hidden · w1 + b1, hidden = sqrt2 lrelu(s0 flat W0ᵀ + b0).
        let s0 = 1 / Float(16 * l).squareRoot(), s1 = 1 / Float(l).squareRoot()
        let w1 = parameters["final_linear.1.weight"]!.pointer
        let dHidden = try pass.take(n * l), dFlat = try pass.take(n * 16 * l)
        for image in 0..<n {
            let d = gradScores[image]
            gradients["final_linear.1.bias"]!.pointer[0] += d
            for j in 0..<l {
                gradients["final_linear.1.weight"]!.pointer[j] += s1 * d * hidden[image * l + j]
                dHidden[image * l + j] = s1 * d * w1[j]
            }
        }
        LeakyReLUBackward.apply(output: frozen?.hidden ?? hidden, grad: dHidden, count: n * l, slope: 0.2, gain: sqrt2)
        let db0 = gradients["final_linear.0.bias"]!.pointer
        for image in 0..<n { for j in 0..<l { db0[j] += dHidden[image * l + j] } }
        BLAS.gemm(transA: true, m: l, n: 16 * l, k: n, alpha: s0, a: dHidden, lda: l, b: flat, ldb: 16 * l, beta: 1,
                  c: gradients["final_linear.0.weight"]!.pointer, ldc: 16 * l)
        BLAS.gemm(m: n, n: 16 * l, k: l, alpha: s0, a: dHidden, lda: l, b: parameters["final_linear.0.weight"]!.pointer, ldb: 16 * l,
                  c: dFlat, ldc: 16 * l)
        // Back to CNHW, through the final conv and the statistic.
        let dFinal = try pass.map(l, 4)
        for image in 0..<n {
            for c in 0..<l { (dFinal.channel(c) + image * 16).update(from: dFlat + image * 16 * l + c * 16, count: 16) }
        }
        let weightGrad = try pass.take(convs.map { $0.outChannels * $0.inChannels * $0.kernel * $0.kernel }.max()!)
        var blurredCount = 0, r = s
        for b in blocks {
            blurredCount = max(blurredCount, b.conv2.inChannels * n * b.conv2.convSide(r) * b.conv2.convSide(r),
                               b.skip.inChannels * n * b.skip.convSide(r) * b.skip.convSide(r))
            r /= 2
        }
        let blurredGrad = try pass.take(blurredCount)
        let dJoined = try pass.map(l + 1, 4)
        finalConv.backward(input: joined, blurred: nil, output: final, gradOutput: dFinal, gradInput: dJoined, gradients: gradients,
                           blurredGrad: nil, weightGrad: weightGrad, cols: cols, slopesFrom: frozen?.final)
        var dh = try pass.map(l, 4)
        dh.data.update(from: dJoined.data, count: l * dh.row)
        MinibatchStddev.backward(pass.blocks.last?.output ?? stemOut, group: pass.group, gradExtra: dJoined.channel(l), into: dh)
        // The residual blocks, last first: out = (main + skip) / sqrt 2.
        r = 4
        for (k, (b, record)) in zip(blocks, pass.blocks).enumerated().reversed() {
            let reference = frozen?.blocks[k]
            r *= 2
            let dMain = try pass.map(b.conv2.outChannels, r / 2), dSkip = try pass.map(b.skip.outChannels, r / 2)
            for i in 0..<(dh.channels * dh.row) { dMain.data[i] = dh.data[i] / sqrt2; dSkip.data[i] = dMain.data[i] }
            let dA = try pass.map(b.conv1.outChannels, r), fromSkip = try pass.map(b.skip.inChannels, r), dIn = try pass.map(b.conv1.inChannels, r)
            b.skip.backward(input: record.input, blurred: record.blurredInput, output: record.skip, gradOutput: dSkip, gradInput: fromSkip,
                            gradients: gradients, blurredGrad: blurredGrad, weightGrad: weightGrad, cols: cols)
            b.conv2.backward(input: record.conv1, blurred: record.blurredConv1, output: record.conv2, gradOutput: dMain, gradInput: dA,
                             gradients: gradients, blurredGrad: blurredGrad, weightGrad: weightGrad, cols: cols,
                             slopesFrom: reference?.conv2)
            b.conv1.backward(input: record.input, blurred: nil, output: record.conv1, gradOutput: dA, gradInput: dIn, gradients: gradients,
                             blurredGrad: nil, weightGrad: weightGrad, cols: cols, slopesFrom: reference?.conv1)
            for i in 0..<(dIn.channels * dIn.row) { dIn.data[i] += fromSkip.data[i] }
            dh = dIn
        }
        let dx = try pass.map(3, s)
        stem.backward(input: x, blurred: nil, output: stemOut, gradOutput: dh, gradInput: gradImages == nil ? nil : dx, gradients: gradients,
                      blurredGrad: nil, weightGrad: weightGrad, cols: cols, slopesFrom: frozen?.stem)
        if let gradImages {
            for image in 0..<n {
                for c in 0..<3 { (gradImages + (image * 3 + c) * s * s).update(from: dx.channel(c) + image * s * s, count: s * s) }
            }
        }
    }
}
