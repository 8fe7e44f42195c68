/// Where the gradients of the style MLP's layers are ADDED: per linear layer its weight
/// `[S, S]` and bias `[S]`.
struct StyleMLPGradients {
    let layers: [(weight: UnsafeMutablePointer<Float>, bias: UnsafeMutablePointer<Float>)]
}

/// Upstream StyleGAN2GeneratorClean's `style_mlp` over `V` vectors at once: NormStyleCode
/// (`z · (mean z² + 1e-8)^(-1/2)` over each vector's S features), then `num_mlp` times
/// `Linear(S, S)` and LeakyReLU(0.2) (the clean version: no equalised learning rate, no
/// lr_mul, no sqrt 2 gain), mapping z `[V, S]` to w `[V, S]`; and its reverse mode. Each layer
/// is one GEMM for the V vectors.
struct StyleMLP {
    /// `weight[S, S]` (out, in, row-major as torch's Linear) and `bias[S]` per layer.
    let layers: [(weight: FloatStorage, bias: FloatStorage)]
    let length: Int

    /// Floats of the record `forward` writes for `vectors` vectors: the normalised input and
    /// every layer's output, each `[V, S]`; w is the last of them (`output(record:vectors:)`).
    func recordCount(vectors: Int) -> Int { (layers.count + 1) * vectors * length }

    /// The record's `[V, S]` block k (0 the normalised z, k the output of layer k).
    func block(_ record: UnsafeMutablePointer<Float>, _ k: Int, vectors: Int) -> UnsafeMutablePointer<Float> {
        record + k * vectors * length
    }

    /// w `[V, S]` inside the record.
    func output(record: UnsafeMutablePointer<Float>, vectors: Int) -> UnsafeMutablePointer<Float> {
        block(record, layers.count, vectors: vectors)
    }

    /// Fills `record` (`recordCount(vectors:)` floats) from z `[V, S]`.
    func forward(_ z: UnsafePointer<Float>, vectors v: Int, record: UnsafeMutablePointer<Float>) {
        let s = length, normalized = block(record, 0, vectors: v)
        for i in 0..<v {
            let x = z + i * s, y = normalized + i * s
            var squares: Double = 0
            for f in 0..<s { squares += Double(x[f]) * Double(x[f]) }
            let r = 1 / (Float(squares / Double(s)) + 1e-8).squareRoot()
            for f in 0..<s { y[f] = x[f] * r }
        }
        for (k, layer) in layers.enumerated() {
            let x = block(record, k, vectors: v), y = block(record, k + 1, vectors: v), bias = layer.bias.pointer
            for i in 0..<v { (y + i * s).update(from: bias, count: s) }
            BLAS.gemm(transB: true, m: v, n: s, k: s, a: x, lda: s, b: layer.weight.pointer, ldb: s, beta: 1, c: y, ldc: s)
            for i in 0..<(v * s) where y[i] < 0 { y[i] *= 0.2 }
        }
    }

    /// Floats of scratch `backward` takes for `vectors` vectors.
    func backwardScratchCount(vectors: Int) -> Int { 2 * vectors * length }

    /// Reverse mode from `gradOutput` dw `[V, S]` and the forward's `record` for z `[V, S]`:
    /// the layers' gradients ADDED to `gradients`; `gradInput` (dz `[V, S]`), if non-nil,
    /// OVERWRITTEN.
    func backward(_ z: UnsafePointer<Float>, vectors v: Int, record: UnsafeMutablePointer<Float>, gradOutput: UnsafePointer<Float>,
                  gradients: StyleMLPGradients, gradInput: UnsafeMutablePointer<Float>?, scratch: UnsafeMutablePointer<Float>) {
        let s = length, count = v * s
        var dy = scratch, dx = scratch + count
        dy.update(from: gradOutput, count: count)
        for (k, layer) in layers.enumerated().reversed() {
            let x = block(record, k, vectors: v), y = block(record, k + 1, vectors: v), g = gradients.layers[k]
            // Through LeakyReLU: its output is positive exactly where its input is.
            for i in 0..<count where y[i] <= 0 { dy[i] *= 0.2 }
            for i in 0..<v { for f in 0..<s { g.bias[f] += dy[i * s + f] } }
            BLAS.gemm(transA: true, m: s, n: s, k: v, a: dy, lda: s, b: x, ldb: s, beta: 1, c: g.weight, ldc: s)
            if k > 0 || gradInput != nil {
                BLAS.gemm(m: v, n: s, k: s, a: dy, lda: s, b: layer.weight.pointer, ldb: s, c: dx, ldc: s)
                swap(&dy, &dx)
            }
        }
        guard let gradInput else { return }
        // NormStyleCode: y = z r, r = (mean z² + 1e-8)^(-1/2): dz = r dy − r³ (dy · z) / S z.
        for i in 0..<v {
            let x = z + i * s, d = dy + i * s, out = gradInput + i * s
            var squares: Double = 0, dot: Double = 0
            for f in 0..<s { squares += Double(x[f]) * Double(x[f]); dot += Double(d[f]) * Double(x[f]) }
            let r = 1 / (Float(squares / Double(s)) + 1e-8).squareRoot(), along = r * r * r * Float(dot / Double(s))
            for f in 0..<s { out[f] = r * d[f] - along * x[f] }
        }
    }
}
