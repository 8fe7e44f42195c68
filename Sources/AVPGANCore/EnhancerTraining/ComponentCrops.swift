/// The facial-component crops of one step (GFPGANModel's `get_roi_regions`): for the output
/// and the truth, the left eyes, right eyes and mouths of the batch, each NCHW
/// `[n, 3, side, side]` (eyes `FacialComponents.cropSizes(faceSize:).eye`, mouths `.mouth`), in
/// the step's workspace. Upstream's `all_eyes[0::2]` and `[1::2]` are split here into two batches.
struct ComponentCrops {
    /// Left eye, right eye, mouth.
    var output: [UnsafeMutablePointer<Float>], truth: [UnsafeMutablePointer<Float>]
    var sides: [Int]
    let batch: Int, size: Int
    let components: [FacialComponents]

    /// Workspace slots 10...19.
    init(output image: UnsafePointer<Float>, truths: [Float], batch n: Int, size: Int, components: [FacialComponents],
         workspace: Workspace) throws {
        let (e, m) = FacialComponents.cropSizes(faceSize: size)
        batch = n
        self.size = size
        self.components = components
        sides = [e, e, m]
        let eyes = try workspace.slot(10, count: 2 * n * 3 * e * e), mouths = try workspace.slot(11, count: n * 3 * m * m)
        output = [try workspace.slot(12, count: n * 3 * e * e), try workspace.slot(13, count: n * 3 * e * e), mouths]
        FacialComponents.crop(image, channels: 3, size: size, components: components, eyes: eyes, mouths: mouths)
        Self.split(eyes, count: n, plane: 3 * e * e, into: output[0], output[1])
        let truthEyes = try workspace.slot(14, count: 2 * n * 3 * e * e), truthMouths = try workspace.slot(15, count: n * 3 * m * m)
        truth = [try workspace.slot(16, count: n * 3 * e * e), try workspace.slot(17, count: n * 3 * e * e), truthMouths]
        truths.withUnsafeBufferPointer {
            FacialComponents.crop($0.baseAddress!, channels: 3, size: size, components: components, eyes: truthEyes, mouths: truthMouths)
        }
        Self.split(truthEyes, count: n, plane: 3 * e * e, into: truth[0], truth[1])
    }

    /// `eyes[2n, plane]` (left, right of face 0, then face 1, ...) into `left[n]` and `right[n]`.
    static func split(_ eyes: UnsafePointer<Float>, count n: Int, plane: Int, into left: UnsafeMutablePointer<Float>,
                      _ right: UnsafeMutablePointer<Float>) {
        for i in 0..<n {
            (left + i * plane).update(from: eyes + 2 * i * plane, count: plane)
            (right + i * plane).update(from: eyes + (2 * i + 1) * plane, count: plane)
        }
    }

    /// Reverse mode of the output's crops: the three crop gradients (NCHW, as `output`) are ADDED
    /// into `gradImages` `[n, 3, size, size]`. Uses workspace slot 18.
    func backward(_ grads: [UnsafePointer<Float>], into gradImages: UnsafeMutablePointer<Float>, workspace: Workspace) throws {
        let n = batch, plane = 3 * sides[0] * sides[0]
        let eyes = try workspace.slot(18, count: 2 * n * plane)
        for i in 0..<n {
            (eyes + 2 * i * plane).update(from: grads[0] + i * plane, count: plane)
            (eyes + (2 * i + 1) * plane).update(from: grads[1] + i * plane, count: plane)
        }
        FacialComponents.cropBackward(gradEyes: eyes, gradMouths: grads[2], channels: 3, size: size, components: components,
                                      into: gradImages)
    }
}
