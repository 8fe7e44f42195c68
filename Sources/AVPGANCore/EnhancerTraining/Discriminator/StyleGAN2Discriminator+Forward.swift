/// The discriminator's forward pass, recording into a `DiscriminatorPass`.
extension StyleGAN2Discriminator {
    /// One score per image of `images[N, 3, S, S]` (NCHW). N must be divisible by
    /// `min(N, stddevGroup)`, as upstream's view requires. `frozen`: another pass of the same
    /// batch size whose LeakyReLU pattern this one takes (see `DiscriminatorConv.forward`).
    func forward(_ images: UnsafePointer<Float>, batch n: Int, pass: DiscriminatorPass, frozen: DiscriminatorPass? = nil) throws -> [Float] {
        guard n > 0, let group = MinibatchStddev.groupSize(batch: n, group: config.stddevGroup) else {
            throw AVPGANError.invalid("a discriminator batch of \(n) is not divisible into groups of min(\(n), \(config.stddevGroup))")
        }
        let s = config.size, l = last, sqrt2 = Float(2).squareRoot()
        pass.batch = n
        pass.group = group
        pass.slots = 0
        pass.blocks = []
        var colsCount = stem.conv.scratchCount(batch: n, h: s, w: s)
        var r = s
        for b in blocks {
            colsCount = max(colsCount, b.conv1.conv.scratchCount(batch: n, h: r, w: r),
                            b.conv2.conv.scratchCount(batch: n, h: b.conv2.convSide(r), w: b.conv2.convSide(r)),
                            b.skip.conv.scratchCount(batch: n, h: b.skip.convSide(r), w: b.skip.convSide(r)))
            r /= 2
        }
        colsCount = max(colsCount, finalConv.conv.scratchCount(batch: n, h: 4, w: 4))
        let cols = try pass.take(colsCount)
        pass.cols = cols
        func bias(_ conv: DiscriminatorConv) -> UnsafePointer<Float>? { conv.biasName.map { UnsafePointer(parameters[$0]!.pointer) } }

        let x = try pass.map(3, s)
        for image in 0..<n {
            for c in 0..<3 { (x.channel(c) + image * s * s).update(from: images + (image * 3 + c) * s * s, count: s * s) }
        }
        pass.input = x
        var h = try pass.map(stem.outChannels, s)
        stem.forward(x, blurred: nil, into: h, bias: bias(stem), cols: cols, slopesFrom: frozen?.stem)
        pass.stem = h
        r = s
        for (k, b) in blocks.enumerated() {
            let reference = frozen?.blocks[k]
            let a = try pass.map(b.conv1.outChannels, r)
            b.conv1.forward(h, blurred: nil, into: a, bias: bias(b.conv1), cols: cols, slopesFrom: reference?.conv1)
            let blurredA = try pass.take(b.conv2.inChannels * n * b.conv2.convSide(r) * b.conv2.convSide(r))
            let main = try pass.map(b.conv2.outChannels, r / 2)
            b.conv2.forward(a, blurred: blurredA, into: main, bias: bias(b.conv2), cols: cols, slopesFrom: reference?.conv2)
            let blurredX = try pass.take(b.skip.inChannels * n * b.skip.convSide(r) * b.skip.convSide(r))
            let skip = try pass.map(b.skip.outChannels, r / 2)
            b.skip.forward(h, blurred: blurredX, into: skip, bias: nil, cols: cols)
            let out = try pass.map(b.skip.outChannels, r / 2)
            let count = out.channels * out.row
            parallelBlocks(count, costPerItem: 2) { range in
                for i in range { out.data[i] = (main.data[i] + skip.data[i]) / sqrt2 }
            }
            pass.blocks.append(.init(input: h, conv1: a, conv2: main, skip: skip, output: out, blurredConv1: blurredA, blurredInput: blurredX))
            h = out
            r /= 2
        }
        // The statistic as channel l, then the 3x3 conv.
        let joined = try pass.map(l + 1, 4)
        joined.data.update(from: h.data, count: l * h.row)
        MinibatchStddev.forward(h, group: group, into: joined.channel(l))
        pass.joined = joined
        let final = try pass.map(l, 4)
        finalConv.forward(joined, blurred: nil, into: final, bias: bias(finalConv), cols: cols, slopesFrom: frozen?.final)
        pass.final = final
        // Flatten per image (c, y, x), then the two equalised linear layers.
        let flat = try pass.take(n * 16 * l), hidden = try pass.take(n * l)
        for image in 0..<n {
            for c in 0..<l { (flat + image * 16 * l + c * 16).update(from: final.channel(c) + image * 16, count: 16) }
        }
        BLAS.gemm(transB: true, m: n, n: l, k: 16 * l, alpha: 1 / Float(16 * l).squareRoot(), a: flat, lda: 16 * l,
                  b: parameters["final_linear.0.weight"]!.pointer, ldb: 16 * l, c: hidden, ldc: l)
        let b0 = parameters["final_linear.0.bias"]!.pointer
        let pattern = frozen?.hidden ?? hidden
        for image in 0..<n {
            for j in 0..<l {
                let i = image * l + j, v = hidden[i] + b0[j]
                let positive = frozen == nil ? v > 0 : pattern[i] > 0
                hidden[i] = (positive ? v : 0.2 * v) * sqrt2
            }
        }
        pass.flat = flat
        pass.hidden = hidden
        let w1 = parameters["final_linear.1.weight"]!.pointer, b1 = parameters["final_linear.1.bias"]!.pointer[0]
        let s1 = 1 / Float(l).squareRoot()
        return (0..<n).map { image in
            var sum: Float = 0
            for j in 0..<l { sum += hidden[image * l + j] * w1[j] }
            return sum * s1 + b1
        }
    }
}
