extension DepthwiseConv {
    /// Reverse mode of `forward` (without epilogue) with respect to the input only: `dx`
    /// (OVERWRITTEN, CNHW like the input) `[c, n, ih, iw] = Σ w[c, i, j] · dy[c, n, oh, ow]`
    /// over the taps `(i, j)` and outputs `(oh, ow)` that read it. Threads split the channels.
    static func backwardInput(_ dy: FeatureMap, weight: UnsafePointer<Float>, geometry g: ConvGeometry, into dx: FeatureMap) {
        precondition(dy.channels == dx.channels && dy.batch == dx.batch)
        parallelFor(dx.channels, costPerItem: g.taps * dy.row) { c in
            let w = weight + c * g.taps
            for n in 0..<dx.batch {
                let out = dx.channel(c) + n * dx.plane, grad = UnsafePointer(dy.channel(c) + n * dy.plane)
                out.update(repeating: 0, count: dx.plane)
                for i in 0..<g.kernelH {
                    for j in 0..<g.kernelW {
                        let wij = w[i * g.kernelW + j]
                        for oh in 0..<dy.height {
                            let ih = oh * g.strideH - g.padH + i
                            guard ih >= 0 && ih < dx.height else { continue }
                            let row = out + ih * dx.width, gRow = grad + oh * dy.width
                            for ow in 0..<dy.width {
                                let iw = ow * g.strideW - g.padW + j
                                if iw >= 0 && iw < dx.width { row[iw] += wij * gRow[ow] }
                            }
                        }
                    }
                }
            }
        }
    }
}
