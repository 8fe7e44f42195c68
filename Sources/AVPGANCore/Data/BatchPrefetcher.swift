#if canImport(Glibc)
import Glibc
#endif

/// Overlaps data loading with compute: while the caller trains on batch k, a background thread
/// draws batch k+1 (crops, flips and the embedding noise) from a copy of the sampler. Batches and
/// noise come out exactly as drawing them in order on one thread would, and `randomState` is
/// the sampler's state after the last batch handed out (not after the one being prepared), so a
/// checkpoint resumes bit-identically. One thread at a time; not copyable.
final class BatchPrefetcher {
    /// What one draw makes, and the sampler as it is after drawing it.
    private final class Draw {
        var sampler: BatchSampler
        let batchSize: Int, noiseCount: Int
        var batch: TrainingBatch?
        var noise: [Float] = []

        init(sampler: BatchSampler, batchSize: Int, noiseCount: Int) {
            self.sampler = sampler
            self.batchSize = batchSize
            self.noiseCount = noiseCount
        }

        func run() {
            batch = sampler.next(batch: batchSize)
            noise = sampler.gaussians(noiseCount, std: TrainingRun.noiseStd)
        }
    }

    /// The sampler after the last batch handed out.
    private var sampler: BatchSampler
    private var pending: (thread: pthread_t, draw: Draw)?

    init(_ sampler: BatchSampler) { self.sampler = sampler }

    deinit { _ = finishPending() }

    /// The generator state after the last batch handed out; setting it drops a prepared batch.
    var randomState: UInt64 {
        get { sampler.randomState }
        set {
            _ = finishPending()
            sampler.randomState = newValue
        }
    }

    /// The next batch of `batchSize` with `noiseCount` noise values, then starts preparing the
    /// one after it (same sizes) in the background.
    func next(batchSize: Int, noiseCount: Int) -> (batch: TrainingBatch, noise: [Float]) {
        var draw = finishPending()
        if draw == nil || draw!.batchSize != batchSize || draw!.noiseCount != noiseCount {
            draw = Draw(sampler: sampler, batchSize: batchSize, noiseCount: noiseCount)
            draw!.run()
        }
        sampler = draw!.sampler
        start(Draw(sampler: sampler, batchSize: batchSize, noiseCount: noiseCount))
        return (draw!.batch!, draw!.noise)
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

    /// Waits for the batch being prepared, if any, and returns it.
    private func finishPending() -> Draw? {
        guard let p = pending else { return nil }
        pthread_join(p.thread, nil)
        pending = nil
        return p.draw
    }
}
