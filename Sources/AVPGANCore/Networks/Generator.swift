/// The generator of the reference: embedding `[E]` -> face `3 x S x S` through ConvTranspose2d
/// layers (ReLU, CBAM for avpgan), unbounded output. Runs a batch in chunks (`Scratch`).
final class Generator {
    let stack: ConvStack
    let embedDim: Int
    let imageSize: Int

    /// `subPixel`: see `ConvStack.init` (off only to measure the col2im way).
    init(_ r: WeightReader, subPixel: Bool = true) throws {
        stack = try ConvStack(r, network: .generator, subPixel: subPixel)
        embedDim = r.config.embedDim
        imageSize = r.config.imageSize
    }

    /// Images per chunk for this network.
    var chunkSize: Int { stack.chunkSize(h: 1, w: 1) }

    /// `embeddings[count, E]` -> `out[count, 3, S, S]` (NCHW).
    func generate(_ embeddings: UnsafePointer<Float>, count: Int, workspace: Workspace, into out: UnsafeMutablePointer<Float>) throws {
        let plane = imageSize * imageSize
        var start = 0
        while start < count {
            let b = min(chunkSize, count - start)
            let input = try stack.inputBuffer(batch: b, h: 1, w: 1, workspace: workspace)
            for n in 0..<b { for e in 0..<embedDim { input[e * b + n] = embeddings[(start + n) * embedDim + e] } }
            let y = try stack.forward(FeatureMap(data: input, channels: embedDim, batch: b, height: 1, width: 1),
                                      workspace: workspace)
            for n in 0..<b {
                for c in 0..<3 {
                    (out + ((start + n) * 3 + c) * plane).update(from: y.channel(c) + n * plane, count: plane)
                }
            }
            start += b
        }
    }
}
