/// A convolution whose reverse mode runs on the same GEMM scratch as its forward: `Conv2d`
/// (im2col of x, then the column gradient) and `ConvTranspose2d` (im2col of dY). The layers
/// keep their `backward` in `ConvolutionBackward.swift` and `ConvTranspose2dBackward.swift`.
protocol GEMMConvolutionBackward {
    /// Floats of scratch a forward over `batch` images of `h x w` needs (the layer's own).
    func scratchCount(batch: Int, h: Int, w: Int) -> Int
}

extension GEMMConvolutionBackward {
    /// Floats of scratch `backward` needs for an input of `batch x h x w` (0 when pointwise):
    /// the forward's, since the backward's GEMM operand is one matrix of the same shape.
    func backwardScratchCount(batch: Int, h: Int, w: Int) -> Int {
        scratchCount(batch: batch, h: h, w: w)
    }
}
