/// Overlaps making enhancer batches (decoding is done; mirroring and degrading are not) with
/// the training step, as `BatchPrefetcher` does for the GAN: while the caller trains on batch
/// k, a background thread makes batch k+1 from a copy of the sampler. The batches are exactly
/// those of the sampler drawn in order on one thread, and `position` is the sampler's after the
/// last batch handed out, so a checkpoint that stores it resumes bit-identically
/// (`BackgroundDraw`). One thread at a time; not copyable.
public final class EnhancerBatchPrefetcher {
    private let draws: BackgroundDraw<EnhancerBatchSampler, Int, EnhancerBatch, any Error>

    public init(_ sampler: EnhancerBatchSampler) {
        draws = BackgroundDraw(sampler) { sampler, batchSize in try sampler.next(batch: batchSize) }
    }

    /// The sampler's position after the last batch handed out; setting it drops a prepared batch.
    public var position: Int {
        get { draws.source.position }
        set { draws.updateSource { $0.position = newValue } }
    }

    /// The next batch of `batchSize`, then starts making the one after it in the background.
    /// A failed draw (a degradation error) is thrown and leaves the position where it was.
    public func next(batch batchSize: Int) throws -> EnhancerBatch {
        try draws.next(batchSize)
    }
}
