#if canImport(Glibc)
import Glibc
#endif

/// A one-slot prefetch over a seeded source: `draw(&source, request)` makes a value and advances
/// the source; `next(request)` hands out the value for the current source, then starts drawing
/// the one after it (same request) on a background thread from a copy of the source. Values come
/// out exactly as calling `draw` in order on one thread would, and `source` is the source after
/// the last value handed out (not after the one being prepared), so a state saved from it
/// resumes bit-identically. A failed draw is thrown and leaves `source` where it was. The
/// samplers' prefetchers (`BatchPrefetcher`, `EnhancerBatchPrefetcher`) are built on it. One
/// thread at a time; not copyable.
final class BackgroundDraw<Source, Request: Equatable, Value, Failure: Error> {
    typealias Draw = (inout Source, Request) throws(Failure) -> Value

    /// One value in the making and the source as it is after drawing it.
    private final class Job {
        var source: Source
        let request: Request
        let draw: Draw
        var result: Result<Value, Failure>?

        init(source: Source, request: Request, draw: @escaping Draw) {
            self.source = source
            self.request = request
            self.draw = draw
        }

        func run() {
            do throws(Failure) {
                result = .success(try draw(&source, request))
            } catch {
                result = .failure(error)
            }
        }
    }

    /// The source after the last value handed out.
    private(set) var source: Source
    private let draw: Draw
    private var pending: (thread: pthread_t, job: Job)?

    init(_ source: Source, draw: @escaping Draw) {
        self.source = source
        self.draw = draw
    }

    deinit { _ = finishPending() }

    /// Changes the source (a restored state), dropping a value being prepared.
    func updateSource(_ change: (inout Source) -> Void) {
        _ = finishPending()
        change(&source)
    }

    /// The value for the current source, then starts preparing the one after it in the
    /// background. A value prepared for another request is dropped and drawn again.
    func next(_ request: Request) throws(Failure) -> Value {
        var job = finishPending()
        if job == nil || job!.request != request {
            job = Job(source: source, request: request, draw: draw)
            job!.run()
        }
        let value = try job!.result!.get()
        source = job!.source
        start(Job(source: source, request: request, draw: draw))
        return value
    }

    private func start(_ job: Job) {
        let context = Unmanaged.passRetained(ThreadBody(job.run)).toOpaque()
        var thread = pthread_t()
        let started = pthread_create(&thread, nil, { raw in
            Unmanaged<ThreadBody>.fromOpaque(raw!).takeRetainedValue().run()
            return nil
        }, context)
        if started == 0 {
            pending = (thread, job)
        } else {
            // No thread available: the next call draws on its own thread instead.
            Unmanaged<ThreadBody>.fromOpaque(context).release()
        }
    }

    /// Waits for the value being prepared, if any, and returns its job.
    private func finishPending() -> Job? {
        guard let p = pending else { return nil }
        pthread_join(p.thread, nil)
        pending = nil
        return p.job
    }
}

/// What a background thread runs, boxed without generic parameters (a C thread entry cannot
/// capture them).
private final class ThreadBody {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}
