import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Persistent worker threads for `parallelFor`, so a parallel region costs a hand-off rather
/// than thread creation. One caller at a time owns the pool (`tryRun` returns false when
/// another thread is using it, and that caller starts its own threads instead).
///
/// Hand-off: the caller publishes a task by bumping `generation`. A worker spins on that
/// counter for `spinLimit` checks (regions follow each other within microseconds during a
/// forward pass, and a futex wake-up on a VM costs tens), then sleeps on a condition variable.
/// Sleeping is announced in `sleepers` before the final check of `generation`, and the caller
/// bumps `generation` before reading `sleepers`; both sequentially consistent, so either the
/// worker sees the new task or the caller sees the sleeper and signals it. Workers live for the
/// rest of the process.
final class WorkerPool: @unchecked Sendable {
    private static let spinLimit = 20_000

    private let workers: Int
    private let owner = PThreadMutex()
    private let sleep = PThreadMutex()
    private var wake = pthread_cond_t()
    private let generation = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    private let remaining = Atomic<Int>(0)
    private var task: ParallelTask?

    /// A pool of `workers` threads (the caller is the extra participant). nil when the
    /// threads cannot be started.
    init?(workers: Int) {
        self.workers = workers
        pthread_cond_init(&wake, nil)
        for index in 1...workers {
            var thread = pthread_t()
            let context = Unmanaged.passRetained(WorkerContext(pool: self, index: index)).toOpaque()
            guard pthread_create(&thread, nil, { raw in
                let context = Unmanaged<WorkerContext>.fromOpaque(raw!).takeRetainedValue()
                context.pool.serve(index: context.index)
                return nil
            }, context) == 0 else { return nil }
            pthread_detach(thread)
        }
    }

    var participants: Int { workers + 1 }

    /// Runs `task` (with at most `participants` parts) on the pool; false if the pool is busy.
    func tryRun(_ task: ParallelTask) -> Bool {
        guard task.parts <= participants, owner.tryLock() else { return false }
        defer { owner.unlock() }
        self.task = task
        remaining.store(workers, ordering: .sequentiallyConsistent)
        generation.add(1, ordering: .sequentiallyConsistent)
        if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
            sleep.lock()
            pthread_cond_broadcast(&wake)
            sleep.unlock()
        }
        task.run(part: 0)
        var spins = 0
        while remaining.load(ordering: .acquiring) > 0 {
            spins += 1
            if spins > 64 { sched_yield() }
        }
        self.task = nil
        return true
    }

    private func serve(index: Int) {
        var seen = 0
        while true {
            var spins = 0
            while generation.load(ordering: .acquiring) == seen && spins < WorkerPool.spinLimit { spins += 1 }
            if generation.load(ordering: .acquiring) == seen {
                sleep.lock()
                sleepers.add(1, ordering: .sequentiallyConsistent)
                while generation.load(ordering: .sequentiallyConsistent) == seen { pthread_cond_wait(&wake, sleep.raw) }
                sleepers.subtract(1, ordering: .sequentiallyConsistent)
                sleep.unlock()
            }
            seen = generation.load(ordering: .acquiring)
            // The task (and the caller's non-escaping closure inside it) must be released
            // before this worker reports done: the caller checks that nothing kept it.
            do {
                if let task = self.task, index < task.parts { task.run(part: index) }
            }
            remaining.subtract(1, ordering: .releasing)
        }
    }

    private final class WorkerContext {
        let pool: WorkerPool
        let index: Int
        init(pool: WorkerPool, index: Int) { self.pool = pool; self.index = index }
    }
}
