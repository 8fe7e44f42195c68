// Support/: what every folder leans on and no domain owns: threads (`Parallel`, here, which
// splits work by its size and never by the thread count; `WorkerPool`, `PThreadMutex`), reused
// scratch memory (`Workspace`), errors (`AVPGANError`), checked arithmetic, file I/O, JSON,
// NPY, SHA-256 (`BackgroundDigest` hashes while a load goes on), seeded random numbers
// (`SplitMix`, `SeededEmbedding`), the library version and the launcher's rank.

#if canImport(Glibc)
import Glibc
#endif

/// How many threads the library's computations use. libavpgan parallelises its own work
/// (each thread runs GEMMs on its block of output channels, then that block's rearrangement
/// and epilogue) and calls OpenBLAS single-threaded, so that two thread pools never compete
/// for the cores. OpenBLAS's thread count is process-wide: a library call holds it at 1 only
/// while it runs (`withSingleThreadedBLAS`) and gives the host's setting back; a program of
/// our own (the avpgan command, the tests) sets it once (`useSingleThreadedBLAS`).
public enum Threads {
    nonisolated(unsafe) private static var configured = 0
    private static let blasConfigured: Bool = {
        BLAS.setThreads(1)
        return true
    }()
    /// Calls inside `withSingleThreadedBLAS` now, and the count they will restore.
    nonisolated(unsafe) private static var blasScope: (depth: Int, saved: Int) = (0, 1)
    private static let blasMutex = PThreadMutex()

    /// The persistent workers for `count` threads (rebuilt when the count changes).
    nonisolated(unsafe) private static var workers: (count: Int, pool: WorkerPool?)?
    private static let poolMutex = PThreadMutex()

    static var pool: WorkerPool? {
        let n = count
        poolMutex.lock()
        defer { poolMutex.unlock() }
        if let w = workers, w.count == n { return w.pool }
        let pool = n > 1 ? WorkerPool(workers: n - 1) : nil
        workers = (n, pool)
        return pool
    }

    /// Sets OpenBLAS's thread pool to one thread for the rest of the process: for programs
    /// that own the process (the avpgan command, tests), never for a library call.
    public static func useSingleThreadedBLAS() { _ = blasConfigured }

    /// Runs `body` with OpenBLAS's thread count at 1, then gives back the count the process had:
    /// the first of overlapping calls saves it, the last one restores it, so a host's own
    /// setting is never left changed.
    public static func withSingleThreadedBLAS<T>(_ body: () throws -> T) rethrows -> T {
        blasMutex.lock()
        if blasScope.depth == 0 {
            blasScope.saved = BLAS.threads
            if blasScope.saved != 1 { BLAS.setThreads(1) }
        }
        blasScope.depth += 1
        blasMutex.unlock()
        defer {
            blasMutex.lock()
            blasScope.depth -= 1
            if blasScope.depth == 0 && blasScope.saved != 1 { BLAS.setThreads(blasScope.saved) }
            blasMutex.unlock()
        }
        return try body()
    }

    /// The number of online CPUs.
    public static var online: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// The thread count in force (the configured one, or all online CPUs).
    public static var count: Int { configured > 0 ? configured : online }

    /// Sets the thread count; 0 means all online CPUs. Process-wide, like OpenBLAS's pool.
    public static func set(_ n: Int) throws {
        guard n >= 0, n <= 1024 else { throw AVPGANError.invalid("n_threads must be 0...1024, got \(n)") }
        configured = n
    }
}

/// Work below this many operations runs on the calling thread: starting threads would cost more.
private let inlineWork = 65_536

/// `count * cost`, saturating instead of overflowing.
private func work(_ count: Int, _ cost: Int) -> Int {
    let (w, overflow) = count.multipliedReportingOverflow(by: max(cost, 1))
    return overflow ? Int.max : w
}

/// Splits `0..<count` into contiguous blocks and runs `body(range)` for each, in parallel on up
/// to `Threads.count` threads (on the calling thread alone when nested in another region).
///
/// The blocks depend on the size of the work only, never on the thread count or nesting:
/// OpenBLAS's result for an output element depends on the shape of the call that computes it
/// (measured: splitting a GEMM's rows or columns in two changes results by 1e-5), so a kernel
/// that gives each block its own GEMM is bit-identical at any thread count only if the blocks
/// are. A block holds at least `blockWork` operations, and there are at most `maxBlocks`.
func parallelBlocks(_ count: Int, costPerItem: Int, _ body: (Range<Int>) -> Void) {
    let blocks = max(1, min(maxBlocks, count, work(count, costPerItem) / blockWork))
    runParallel(blocks, threads: min(Threads.count, blocks)) { b in body((count * b / blocks)..<(count * (b + 1) / blocks)) }
}

/// At most this many blocks per `parallelBlocks` region: the most threads one region uses.
/// More blocks than threads cost a little (each GEMM block packs its shared operand again).
private let maxBlocks = 16
/// Operations per block, at least: enough that re-packing a GEMM operand per block is noise.
private let blockWork = 1 << 22

/// Runs `body(i)` for every `i` in `0..<count`, spread over up to `Threads.count` threads in
/// contiguous chunks; returns when all are done. `body` must be safe to run concurrently for
/// different indices. Small work (`count * costPerItem` below `inlineWork`) runs inline.
func parallelFor(_ count: Int, costPerItem: Int = 1024, _ body: (Int) -> Void) {
    let threads = work(count, costPerItem) < inlineWork ? 1 : min(Threads.count, count)
    runParallel(count, threads: threads, body)
}

/// Runs `body(i)` for `i` in `0..<count` on `threads` threads (the caller's included).
/// A region started from inside another (a part calling a kernel that is itself parallel)
/// runs on its own thread: the outer region already occupies the threads.
private func runParallel(_ count: Int, threads: Int, _ body: (Int) -> Void) {
    if threads <= 1 || ParallelTask.isNested {
        for i in 0..<count { body(i) }
        return
    }
    withoutActuallyEscaping(body) { body in
        let task = ParallelTask(count: count, parts: threads, body: body)
        if let pool = Threads.pool, pool.tryRun(task) { return }
        var workers: [pthread_t] = []
        workers.reserveCapacity(threads - 1)
        let context = Unmanaged.passRetained(task)
        for part in 1..<threads {
            var thread = pthread_t()
            let started = pthread_create(&thread, nil, { raw in
                let (task, part) = ParallelTask.decode(raw)
                task.run(part: part)
                return nil
            }, ParallelTask.encode(context, part: part))
            if started == 0 { workers.append(thread) } else { task.run(part: part) }
        }
        task.run(part: 0)
        for thread in workers { pthread_join(thread, nil) }
        context.release()
    }
}

/// The shared state of one `parallelFor` call.
final class ParallelTask {
    let count: Int
    let parts: Int
    let body: (Int) -> Void

    init(count: Int, parts: Int, body: @escaping (Int) -> Void) {
        self.count = count
        self.parts = parts
        self.body = body
    }

    func run(part: Int) {
        let begin = count * part / parts
        let end = count * (part + 1) / parts
        let outer = pthread_getspecific(ParallelTask.nesting)
        pthread_setspecific(ParallelTask.nesting, ParallelTask.marker)
        defer { pthread_setspecific(ParallelTask.nesting, outer) }
        for i in begin..<end { body(i) }
    }

    /// Thread-specific flag: set while the thread runs a part of a region.
    private static let nesting: pthread_key_t = {
        var key = pthread_key_t()
        precondition(pthread_key_create(&key, nil) == 0, "pthread_key_create failed")
        return key
    }()
    private static let marker = UnsafeRawPointer(bitPattern: 1)

    /// True on a thread that is running a part of a parallel region.
    static var isNested: Bool { pthread_getspecific(nesting) != nil }

    /// Packs the task and a part index into the single pointer pthread_create passes on.
    static func encode(_ task: Unmanaged<ParallelTask>, part: Int) -> UnsafeMutableRawPointer {
        let box = UnsafeMutablePointer<(Unmanaged<ParallelTask>, Int)>.allocate(capacity: 1)
        box.initialize(to: (task, part))
        return UnsafeMutableRawPointer(box)
    }

    static func decode(_ raw: UnsafeMutableRawPointer?) -> (ParallelTask, Int) {
        let box = raw!.assumingMemoryBound(to: (Unmanaged<ParallelTask>, Int).self)
        let (task, part) = box.pointee
        box.deinitialize(count: 1)
        box.deallocate()
        return (task.takeUnretainedValue(), part)
    }
}
