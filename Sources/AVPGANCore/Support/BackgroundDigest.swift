import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The SHA-256 of some bytes, computed on its own thread from creation so that loading a
/// model does not wait for it; `hex` waits for the result (once) and caches it. Dropping the
/// digest unread cancels the work (checked every MiB) instead of waiting for it.
final class BackgroundDigest: @unchecked Sendable {
    private let cancelled = Atomic<Bool>(false)
    private var bytes: [UInt8]?
    private var result = ""
    private var thread: pthread_t?
    private let lock = PThreadMutex()

    init(of bytes: [UInt8]) {
        self.bytes = bytes
        var t = pthread_t()
        let started = pthread_create(&t, nil, { raw in
            let digest = Unmanaged<BackgroundDigest>.fromOpaque(raw!).takeUnretainedValue()
            digest.result = digest.hash(digest.bytes!)
            digest.bytes = nil
            return nil
        }, Unmanaged.passUnretained(self).toOpaque())
        if started == 0 {
            thread = t
        } else {
            result = SHA256.hex(bytes)
            self.bytes = nil
        }
    }

    private func hash(_ bytes: [UInt8]) -> String {
        var hasher = SHA256()
        var at = 0
        while at < bytes.count {
            if cancelled.load(ordering: .relaxed) { return "" }
            let end = min(at + (1 << 20), bytes.count)
            hasher.update(bytes[at..<end])
            at = end
        }
        return hasher.hexDigest()
    }

    /// The lowercase hex digest.
    var hex: String {
        lock.lock()
        defer { lock.unlock() }
        if let t = thread {
            pthread_join(t, nil)
            thread = nil
        }
        return result
    }

    /// The worker holds a strong reference while it hashes, so the last release, and this
    /// deinit, may run on the worker itself (the owner dropped the digest mid-hash): joining
    /// itself would fail and leave the thread unreclaimed, so it detaches instead.
    deinit {
        cancelled.store(true, ordering: .relaxed)
        guard let t = thread else { return }
        if pthread_equal(t, pthread_self()) != 0 {
            pthread_detach(t)
        } else {
            pthread_join(t, nil)
        }
    }
}
