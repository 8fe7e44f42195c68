#if canImport(Glibc)
import Glibc
#endif

/// Scratch memory for one computation at a time: numbered slots that grow to the largest size
/// asked and are kept for the next call, so steady-state calls allocate nothing.
final class Workspace {
    private var slots: [FloatStorage] = []

    /// Slot `index` with room for at least `count` floats (contents unspecified).
    func slot(_ index: Int, count: Int) throws -> UnsafeMutablePointer<Float> {
        while slots.count <= index { slots.append(try FloatStorage(count: 0)) }
        try slots[index].reserve(count)
        return slots[index].pointer
    }

    /// Floats currently held.
    var footprint: Int { slots.reduce(0) { $0 + $1.count } }
}

/// Lends workspaces to concurrent callers: each call borrows an idle one (or a new one) and
/// returns it, so a model shared by many threads needs no lock during computation. A
/// workspace that grew past `retainLimit` floats (an unusually long recording, say) is freed
/// after its call rather than kept for the life of the model.
final class WorkspacePool: @unchecked Sendable {
    /// 48 Mi floats (192 MiB): above what batch inference at the `Scratch` budgets needs.
    static let retainLimit = 48 << 20

    private var idle: [Workspace] = []
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    /// Floats a workspace may hold and still be kept for the next call.
    private let limit: Int

    /// `retainLimit`: a network whose every call needs more scratch than the default (a
    /// 512 px enhancer) passes a larger one, so that its calls do not allocate afresh.
    init(retainLimit: Int = WorkspacePool.retainLimit) {
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        limit = retainLimit
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func with<T>(_ body: (Workspace) throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        let workspace = idle.popLast() ?? Workspace()
        pthread_mutex_unlock(mutex)
        defer {
            if workspace.footprint <= limit {
                pthread_mutex_lock(mutex)
                idle.append(workspace)
                pthread_mutex_unlock(mutex)
            }
        }
        return try body(workspace)
    }
}
