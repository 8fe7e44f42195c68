#if canImport(Glibc)
import Glibc
#endif

/// A pthread mutex with a stable address (Swift may move a struct; a class's storage does not
/// move), the one lock type of the library and its C boundary.
public final class PThreadMutex: @unchecked Sendable {
    let raw: UnsafeMutablePointer<pthread_mutex_t>

    public init() {
        raw = .allocate(capacity: 1)
        pthread_mutex_init(raw, nil)
    }

    deinit {
        pthread_mutex_destroy(raw)
        raw.deallocate()
    }

    public func lock() { pthread_mutex_lock(raw) }
    public func unlock() { pthread_mutex_unlock(raw) }
    /// Takes the lock if it is free; false (without waiting) when another thread holds it.
    public func tryLock() -> Bool { pthread_mutex_trylock(raw) == 0 }

    /// Runs `body` holding the lock.
    public func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }
}
