#if canImport(Glibc)
import Glibc
#endif

/// Persistent worker threads for `parallelFor`, so a parallel region costs a wake-up rather
/// than thread creation. One caller at a time owns the pool (`tryRun` returns false when
/// another thread is using it, and that caller starts its own threads instead).
/// Workers live for the rest of the process.
final class WorkerPool: @unchecked Sendable {
    private let workers: Int
    private let owner = Mutex()
    private let state = Mutex()
    private var start = pthread_cond_t()
    private var done = pthread_cond_t()
    private var generation = 0
    private var remaining = 0
    private var task: ParallelTask?

    /// A pool of `workers` threads (the caller is the extra participant). nil when the
    /// threads cannot be started.
    init?(workers: Int) {
        self.workers = workers
        pthread_cond_init(&start, nil)
        pthread_cond_init(&done, nil)
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
        state.lock()
        self.task = task
        generation += 1
        remaining = workers
        pthread_cond_broadcast(&start)
        state.unlock()
        task.run(part: 0)
        state.lock()
        while remaining > 0 { pthread_cond_wait(&done, state.raw) }
        self.task = nil
        state.unlock()
        return true
    }

    private func serve(index: Int) {
        var seen = 0
        while true {
            state.lock()
            while generation == seen { pthread_cond_wait(&start, state.raw) }
            seen = generation
            // The task (and the caller's non-escaping closure inside it) must be released
            // before this worker reports done: the caller checks that nothing kept it.
            do {
                let task = self.task
                state.unlock()
                if let task, index < task.parts { task.run(part: index) }
            }
            state.lock()
            remaining -= 1
            if remaining == 0 { pthread_cond_signal(&done) }
            state.unlock()
        }
    }

    private final class WorkerContext {
        let pool: WorkerPool
        let index: Int
        init(pool: WorkerPool, index: Int) { self.pool = pool; self.index = index }
    }
}

/// A pthread mutex with a stable address.
final class Mutex: @unchecked Sendable {
    let raw: UnsafeMutablePointer<pthread_mutex_t>

    init() {
        raw = .allocate(capacity: 1)
        pthread_mutex_init(raw, nil)
    }

    deinit {
        pthread_mutex_destroy(raw)
        raw.deallocate()
    }

    func lock() { pthread_mutex_lock(raw) }
    func unlock() { pthread_mutex_unlock(raw) }
    func tryLock() -> Bool { pthread_mutex_trylock(raw) == 0 }
}
