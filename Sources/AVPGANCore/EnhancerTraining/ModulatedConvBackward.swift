/// Where the gradients of one `ModulatedConv`'s parameters are ADDED: the weights
/// `[O, C k k]`, the modulation linear map `[C, styleDim]` and its bias `[C]`.
struct ModulatedConvGradients {
    let weight: UnsafeMutablePointer<Float>
    let modulationWeight: UnsafeMutablePointer<Float>
    let modulationBias: UnsafeMutablePointer<Float>
}

/// Reverse mode of the modulated convolution for one image, as upstream's ModulatedConv2d
/// differentiates: with `s = A style + b`, `w'[o, c, t] = W[o, c, t] s[c]`,
/// `d[o] = (Σ w'[o]² + 1e-8)^(-1/2)` (1 without demodulation) and the convolution's weights
/// `w''[o] = gain d[o] w'[o]`:
///   dw'[o] = gain d[o] dw''[o] − gain d[o]³ (dw''[o] · w'[o]) w'[o]   (the second term only when demodulating)
///   dW[o, c, t] += dw'[o, c, t] s[c],   ds[c] = Σ_{o,t} dw'[o, c, t] W[o, c, t]
///   dA += ds styleᵀ,   db += ds,   dstyle += Aᵀ ds
/// The convolution's own part (`dw''` and dX) is `SameConv.backward`.
extension ModulatedConv {
    /// Floats of scratch `backward` takes for an input side `side` on up to `threads` threads.
    func backwardScratchCount(side: Int, threads: Int) -> Int {
        2 * inChannels + 3 * outChannels * depth
            + SameConv.backwardScratchCount(outChannels: outChannels, channels: inChannels, height: side, width: side,
                                            kernel: kernel, threads: threads)
    }

    /// - Parameters:
    ///   - input: the convolution's input `x[C, side, side]` (after any upsampling).
    ///   - style: the image's style vector `[styleDim]`; `gain`: as the forward's `modulate`.
    ///   - gradOutput: `dY[O, side, side]` of the convolution's output (before bias and noise).
    ///   - gradInput: if non-nil, OVERWRITTEN with `dX[C, side, side]`.
    ///   - gradients: the parameters' gradients, ADDED.
    ///   - gradStyle: if non-nil, `dstyle[styleDim]` is ADDED.
    ///   - scratch: `backwardScratchCount(side:threads:)` floats for the same `threads`.
    func backward(input: UnsafePointer<Float>, side: Int, style: UnsafePointer<Float>, gain: Float,
                  gradOutput dy: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>?,
                  gradients: ModulatedConvGradients, gradStyle: UnsafeMutablePointer<Float>?,
                  threads: Int, scratch: UnsafeMutablePointer<Float>) {
        let taps = kernel * kernel, depth = self.depth, src = weight.pointer
        let s = scratch, ds = s + inChannels
        let modulated = ds + inChannels, scaled = modulated + outChannels * depth, dModulated = scaled + outChannels * depth
        let convScratch = dModulated + outChannels * depth
        modulate(style: style, gain: gain, styleScratch: s, into: modulated)
        // w' = W s, again (the forward keeps only w'').
        parallelFor(outChannels, costPerItem: depth) { o in
            for c in 0..<inChannels {
                let scale = s[c], from = src + o * depth + c * taps, to = scaled + o * depth + c * taps
                for t in 0..<taps { to[t] = from[t] * scale }
            }
        }
        dModulated.update(repeating: 0, count: outChannels * depth)
        SameConv.backward(weights: modulated, outChannels: outChannels, kernel: kernel, input: input, channels: inChannels,
                          height: side, width: side, gradOutput: dy, gradInput: gradInput, gradWeight: dModulated,
                          threads: threads, scratch: convScratch)
        // dw'' -> dw' in place, then dW += dw' s.
        parallelFor(outChannels, costPerItem: 6 * depth) { o in
            let g = dModulated + o * depth, w = scaled + o * depth
            if demodulate {
                var squares: Double = 0, dot: Double = 0
                for i in 0..<depth {
                    squares += Double(w[i]) * Double(w[i])
                    dot += Double(g[i]) * Double(w[i])
                }
                let d = 1 / (Float(squares) + 1e-8).squareRoot()
                let direct = gain * d, along = gain * d * d * d * Float(dot)
                for i in 0..<depth { g[i] = direct * g[i] - along * w[i] }
            } else if gain != 1 {
                for i in 0..<depth { g[i] *= gain }
            }
            let dW = gradients.weight + o * depth
            for c in 0..<inChannels {
                let scale = s[c]
                for t in 0..<taps { dW[c * taps + t] += g[c * taps + t] * scale }
            }
        }
        // ds[c] = Σ_o Σ_t dw'[o, c, t] W[o, c, t].
        for c in 0..<inChannels {
            var sum: Double = 0
            for o in 0..<outChannels {
                let g = dModulated + o * depth + c * taps, w = src + o * depth + c * taps
                for t in 0..<taps { sum += Double(g[t]) * Double(w[t]) }
            }
            ds[c] = Float(sum)
        }
        // The modulation's linear map.
        BLAS.gemm(m: inChannels, n: styleDim, k: 1, a: ds, lda: 1, b: style, ldb: styleDim, beta: 1,
                  c: gradients.modulationWeight, ldc: styleDim)
        for c in 0..<inChannels { gradients.modulationBias[c] += ds[c] }
        if let gradStyle {
            BLAS.gemv(trans: true, rows: inChannels, cols: styleDim, a: modulationWeight.pointer, lda: styleDim, x: ds,
                      beta: 1, y: gradStyle)
        }
    }
}
