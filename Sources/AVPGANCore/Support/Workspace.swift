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
    private let mutex = PThreadMutex()
    /// Floats a workspace may hold and still be kept for the next call.
    private let limit: Int

    /// `retainLimit`: a network whose every call needs more scratch than the default (a
    /// 512 px enhancer) passes a larger one, so that its calls do not allocate afresh.
    init(retainLimit: Int = WorkspacePool.retainLimit) {
        limit = retainLimit
    }

    func with<T>(_ body: (Workspace) throws -> T) rethrows -> T {
        let workspace = mutex.withLock { idle.popLast() } ?? Workspace()
        defer {
            if workspace.footprint <= limit { mutex.withLock { idle.append(workspace) } }
        }
        return try body(workspace)
    }
}
