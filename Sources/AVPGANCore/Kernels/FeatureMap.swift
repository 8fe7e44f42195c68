/// A batch of activations laid out channel-major, `channels x batch x height x width` floats
/// ("CNHW"), so that one GEMM covers every image of the batch. 1-D signals use height 1.
/// The memory belongs to a workspace; a FeatureMap is only a view.
struct FeatureMap {
    var data: UnsafeMutablePointer<Float>
    var channels: Int
    var batch: Int
    var height: Int
    var width: Int

    /// Floats in one image plane of one channel.
    var plane: Int { height * width }
    /// Floats in one channel row (all images): the GEMM's column count.
    var row: Int { batch * plane }
    /// Floats in the whole map.
    var count: Int { channels * row }

    func channel(_ c: Int) -> UnsafeMutablePointer<Float> { data + c * row }
}
