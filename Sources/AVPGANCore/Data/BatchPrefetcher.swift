/// Overlaps data loading with compute: while the caller trains on batch k, a background thread
/// draws batch k+1 (crops, flips and the embedding noise) from a copy of the sampler. Batches and
/// noise come out exactly as drawing them in order on one thread would, and `randomState` is
/// the sampler's state after the last batch handed out (not after the one being prepared), so a
/// checkpoint resumes bit-identically (`BackgroundDraw`). One thread at a time; not copyable.
final class BatchPrefetcher {
    /// The sizes of one draw: a batch of `batchSize` and `noiseCount` noise values.
    private struct Sizes: Equatable { let batchSize: Int, noiseCount: Int }

    private let draws: BackgroundDraw<BatchSampler, Sizes, (batch: TrainingBatch, noise: [Float]), Never>

    init(_ sampler: BatchSampler) {
        draws = BackgroundDraw(sampler) { sampler, sizes in
            let batch = sampler.next(batch: sizes.batchSize)
            return (batch, sampler.gaussians(sizes.noiseCount, std: TrainingRun.noiseStd))
        }
    }

    /// The generator state after the last batch handed out; setting it drops a prepared batch.
    var randomState: UInt64 {
        get { draws.source.randomState }
        set { draws.updateSource { $0.randomState = newValue } }
    }

    /// The next batch of `batchSize` with `noiseCount` noise values, then starts preparing the
    /// one after it (same sizes) in the background.
    func next(batchSize: Int, noiseCount: Int) -> (batch: TrainingBatch, noise: [Float]) {
        draws.next(Sizes(batchSize: batchSize, noiseCount: noiseCount))
    }
}
