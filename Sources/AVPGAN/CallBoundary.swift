import AVPGANCore
#if canImport(Glibc)
import Glibc
#endif

/// The edge between C callers and the Swift core: every thunk runs its body through
/// `boundary`, which turns a thrown `AVPGANError` into its status code and the thread-local
/// last-error message, and clears the message on success.
enum CallBoundary {
    static func run(_ body: () throws -> Void) -> Int32 {
        do {
            try body()
            LastError.clear()
            return 0
        } catch let e as AVPGANError {
            LastError.set(e.message)
            return e.kind.rawValue
        } catch {
            LastError.set("unexpected error: \(error)")
            return ErrorKind.internal.rawValue
        }
    }
}

/// The message of the last failed call, one per thread (a pthread key whose value is a
/// malloc'd C string freed when the thread exits or the message changes).
enum LastError {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { free($0) }
        return key
    }()
    private static let empty = strdup("")!

    static func set(_ message: String) {
        free(pthread_getspecific(key))
        pthread_setspecific(key, strdup(message))
    }

    static func clear() {
        if let old = pthread_getspecific(key) {
            free(old)
            pthread_setspecific(key, nil)
        }
    }

    static var current: UnsafePointer<CChar> {
        if let p = pthread_getspecific(key) { return UnsafePointer(p.assumingMemoryBound(to: CChar.self)) }
        return UnsafePointer(empty)
    }
}

/// Checks shared by the thunks; each throws `AVPGAN_E_INVALID_ARGUMENT` naming the argument.
enum Argument {
    static func require<T>(_ pointer: T?, _ name: String) throws -> T {
        guard let pointer else { throw AVPGANError(.invalidArgument, "\(name) is NULL") }
        return pointer
    }

    /// Reads a caller's params struct of `structSize` bytes over `defaults` (older, shorter
    /// structs keep the defaults of the fields they lack).
    static func params<T>(_ pointer: UnsafePointer<T>?, defaults: T, minimumSize: Int, name: String) throws -> T {
        guard let pointer else { return defaults }
        let size = UnsafeRawPointer(pointer).load(as: Int.self)
        try structSize(size, minimum: minimumSize, current: MemoryLayout<T>.stride, name: name)
        var value = defaults
        withUnsafeMutableBytes(of: &value) { $0.copyMemory(from: UnsafeRawBufferPointer(start: pointer, count: size)) }
        return value
    }

    static func structSize(_ size: Int, minimum: Int, current: Int, name: String) throws {
        guard size >= minimum, size <= current else {
            throw AVPGANError(.invalidArgument, "\(name).struct_size is \(size); this library accepts \(minimum)...\(current) (use sizeof and the header of this version)")
        }
    }

    /// The buffer convention: writes `needed`, returns false for a (NULL, 0) size query, and
    /// throws for a NULL buffer with a capacity or a buffer that is too small.
    static func buffer<T>(_ pointer: UnsafeMutablePointer<T>?, capacity: Int, needed: Int,
                          neededOut: UnsafeMutablePointer<Int>?, name: String, unit: String) throws -> Bool {
        neededOut?.pointee = needed
        if pointer == nil && capacity == 0 { return false }
        guard pointer != nil else { throw AVPGANError(.invalidArgument, "\(name) is NULL but capacity is \(capacity)") }
        guard capacity >= needed else {
            throw AVPGANError(.bufferTooSmall, "\(name) holds \(capacity) \(unit) but the result needs \(needed)")
        }
        return true
    }
}
