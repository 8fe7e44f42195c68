#if canImport(Glibc)
import Glibc
#endif

/// Overlaps making enhancer batches (decoding is done; mirroring and degrading are not) with
/// the training step, as `BatchPrefetcher` does for the GAN: while the caller trains on batch
/// k, a background thread makes batch k+1 from a copy of the sampler. The batches are exactly
/// those of the sampler drawn in order on one thread, and `position` is the sampler's after the
/// last batch handed out, so a checkpoint that stores it resumes bit-identically. One thread
/// at a time; not copyable.
public final class EnhancerBatchPrefetcher {
    /// One batch in the making and the sampler as it is after drawing it.
    private final class Draw {
        var sampler: EnhancerBatchSampler
        let batchSize: Int
        var result: Result<EnhancerBatch, Error>?

        init(sampler: EnhancerBatchSampler, batchSize: Int) {
            self.sampler = sampler
            self.batchSize = batchSize
        }

        func run() { result = Result { try sampler.next(batch: batchSize) } }
    }

    private var sampler: EnhancerBatchSampler
    private var pending: (thread: pthread_t, draw: Draw)?

    public init(_ sampler: EnhancerBatchSampler) { self.sampler = sampler }

    deinit { _ = finishPending() }

    /// The sampler's position after the last batch handed out; setting it drops a prepared batch.
    public var position: Int {
        get { sampler.position }
        set {
            _ = finishPending()
            sampler.position = newValue
        }
    }

    /// The next batch of `batchSize`, then starts making the one after it in the background.
    /// A failed draw (a degradation error) is thrown and leaves the position where it was.
    public func next(batch batchSize: Int) throws -> EnhancerBatch {
        var draw = finishPending()
        if draw == nil || draw!.batchSize != batchSize {
            draw = Draw(sampler: sampler, batchSize: batchSize)
            draw!.run()
        }
        let batch = try draw!.result!.get()
        sampler = draw!.sampler
        start(Draw(sampler: sampler, batchSize: batchSize))
        return batch
    }

    private func start(_ draw: Draw) {
        let context = Unmanaged.passRetained(draw).toOpaque()
        var thread = pthread_t()
        let started = pthread_create(&thread, nil, { raw in
            Unmanaged<Draw>.fromOpaque(raw!).takeRetainedValue().run()
            return nil
        }, context)
        if started == 0 {
            pending = (thread, draw)
        } else {
            // No thread available: the next call draws on its own thread instead.
            Unmanaged<Draw>.fromOpaque(context).release()
        }
    }

    /// Waits for the batch being made, if any, and returns it.
    private func finishPending() -> Draw? {
        guard let p = pending else { return nil }
        pthread_join(p.thread, nil)
        pending = nil
        return p.draw
    }
}
