/// GFPGAN's identity loss, `weight · mean |φ(output) - φ(truth)|` over the embeddings, through
/// the project's own face-recognition network φ (a tools/converters/convert_face.py file), the truth's
/// embedding detached, with the gradient with respect to the output image.
///
/// Input path: GFPGAN shrinks gray faces to 128 px for its gray-input ResNetArcFace; the
/// project's networks (MobileFaceNet, IResNet) take RGB at `inputSize` (112) px, so here the
/// RGB images in [-1, 1] are resized to `inputSize` by bilinear interpolation without
/// antialiasing (as GFPGAN resizes), mapped to pixels `(x + 1) · 127.5` and normalised as the
/// face model file says (`(p - input_mean) / input_std`, planes swapped for a BGR network).
struct IdentityLoss {
    let network: FaceNetwork

    /// Memory one caller reuses across steps.
    final class Scratch {
        let output = FaceNetwork.Tape()
        let truth = FaceNetwork.Tape()
        let workspace = Workspace()
        init() {}
    }

    /// The face network's normalised CNHW input `[3, n, S, S]` for NCHW images `[n, 3, size, size]`.
    private func prepare(_ images: UnsafePointer<Float>, batch: Int, size: Int, into input: FeatureMap,
                         scratch: UnsafeMutablePointer<Float>) {
        let s = network.config.inputSize, plane = s * s
        let mean = network.config.inputMean, std = network.config.inputStd
        BilinearResize.forward(images, planes: batch * 3, h: size, w: size, oh: s, ow: s, into: scratch)
        for n in 0..<batch {
            for c in 0..<3 {
                let src = scratch + (n * 3 + (network.config.bgr ? 2 - c : c)) * plane
                let dst = input.channel(c) + n * plane
                for i in 0..<plane { dst[i] = ((src[i] + 1) * 127.5 - mean) / std }
            }
        }
    }

    /// Returns the loss for NCHW images `output` and `truth` (`[batch, 3, size, size]`, in
    /// [-1, 1]); `gradOutput` (if non-nil) is OVERWRITTEN with dloss/d(output).
    func evaluate(output: UnsafePointer<Float>, truth: UnsafePointer<Float>, batch: Int, size: Int, weight: Float,
                  gradOutput: UnsafeMutablePointer<Float>?, scratch: Scratch) throws -> Float {
        let s = network.config.inputSize, e = network.config.embedDim, plane = s * s, std = network.config.inputStd
        let ws = scratch.workspace
        let resized = try ws.slot(0, count: batch * 3 * plane)
        let input = FeatureMap(data: try ws.slot(1, count: batch * 3 * plane), channels: 3, batch: batch, height: s, width: s)
        prepare(truth, batch: batch, size: size, into: input, scratch: resized)
        let target = try network.trainingForward(input, tape: scratch.truth)
        prepare(output, batch: batch, size: size, into: input, scratch: resized)
        let embedding = try network.trainingForward(input, tape: scratch.output)
        // Both are [E, n, 1, 1]; the mean over all n·E entries does not depend on the layout.
        let grad = try ws.slot(2, count: e * batch)
        let loss = L1Loss.evaluate(output: embedding.data, target: target.data, count: e * batch, weight: weight,
                                   gradOutput: gradOutput == nil ? nil : grad)
        guard let gradOutput else { return loss }
        let gradMap = FeatureMap(data: grad, channels: e, batch: batch, height: 1, width: 1)
        let gradInput = FeatureMap(data: try ws.slot(3, count: batch * 3 * plane), channels: 3, batch: batch, height: s, width: s)
        try network.backwardInput(tape: scratch.output, gradEmbeddings: gradMap, into: gradInput)
        // Through the normalisation (d/dx of ((x + 1) · 127.5 - mean) / std, torch's order) to NCHW planes.
        for n in 0..<batch {
            for c in 0..<3 {
                let src = gradInput.channel(c) + n * plane, dst = resized + (n * 3 + (network.config.bgr ? 2 - c : c)) * plane
                for i in 0..<plane { dst[i] = src[i] / std * 127.5 }
            }
        }
        BilinearResize.backward(resized, planes: batch * 3, h: size, w: size, oh: s, ow: s, into: gradOutput)
        return loss
    }
}
