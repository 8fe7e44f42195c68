/// A batch of activations laid out channel-major, `channels x batch x height x width` floats
/// ("CNHW"), so that one GEMM covers every image of the batch. 1-D signals use height 1.
/// A view of some of the images of a larger map keeps that map's `stride` between channel
/// rows. The memory belongs to a workspace; a FeatureMap is only a view.
struct FeatureMap {
    var data: UnsafeMutablePointer<Float>
    var channels: Int
    var batch: Int
    var height: Int
    var width: Int
    /// Floats from one channel row to the next (`batch * plane` unless this is a view).
    var stride: Int

    init(data: UnsafeMutablePointer<Float>, channels: Int, batch: Int, height: Int, width: Int, stride: Int? = nil) {
        self.data = data
        self.channels = channels
        self.batch = batch
        self.height = height
        self.width = width
        self.stride = stride ?? batch * height * width
    }

    /// Floats in one image plane of one channel.
    var plane: Int { height * width }
    /// Floats of one channel over the view's images (contiguous): the GEMM's column count.
    var row: Int { batch * plane }

    func channel(_ c: Int) -> UnsafeMutablePointer<Float> { data + c * stride }

    /// The view of images `range`.
    func images(_ range: Range<Int>) -> FeatureMap {
        FeatureMap(data: data + range.lowerBound * plane, channels: channels, batch: range.count,
                   height: height, width: width, stride: stride)
    }
}
