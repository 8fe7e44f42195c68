/// The face encoder of the reference: face `3 x S x S` -> `[E]` through Conv2d layers
/// (LeakyReLU 0.2, CBAM for avpgan); the trunk of the discriminator and classifier heads.
final class FaceEncoder {
    let stack: ConvStack
    let embedDim: Int
    let imageSize: Int

    init(_ r: WeightReader) throws {
        stack = try ConvStack(r, network: .faceEncoder)
        embedDim = r.config.embedDim
        imageSize = r.config.imageSize
    }

    /// `images[count, 3, S, S]` (NCHW) -> `out[count, E]`.
    func encode(_ images: UnsafePointer<Float>, count: Int, workspace: Workspace, into out: UnsafeMutablePointer<Float>) throws {
        let plane = imageSize * imageSize
        let chunk = stack.chunkSize(h: imageSize, w: imageSize)
        var start = 0
        while start < count {
            let b = min(chunk, count - start)
            let input = try stack.inputBuffer(batch: b, h: imageSize, w: imageSize, workspace: workspace)
            for n in 0..<b {
                for c in 0..<3 { (input + (c * b + n) * plane).update(from: images + ((start + n) * 3 + c) * plane, count: plane) }
            }
            let y = try stack.forward(FeatureMap(data: input, channels: 3, batch: b, height: imageSize, width: imageSize),
                                      workspace: workspace)
            for n in 0..<b { for e in 0..<embedDim { out[(start + n) * embedDim + e] = y.channel(e)[n] } }
            start += b
        }
    }
}
