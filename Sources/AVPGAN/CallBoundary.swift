import AVPGANCore
#if canImport(Glibc)
import Glibc
#endif

/// The edge between C callers and the Swift core: every thunk runs its body through
/// `boundary`, which turns a thrown `AVPGANError` into its status code and the thread-local
/// last-error message, and clears the message on success. The body runs with OpenBLAS
/// single-threaded, and the host's OpenBLAS thread count is given back afterwards.
enum CallBoundary {
    static func run(_ body: () throws -> Void) -> Int32 {
        do {
            try Threads.withSingleThreadedBLAS(body)
            LastError.clear()
            return 0
        } catch let e as AVPGANError {
            // A model file of another kind: say which C loader takes it.
            LastError.set(e.fileKind.map { "\(e.message): load it with \($0.loader)" } ?? e.message)
            return e.kind.status
        } catch {
            LastError.set("unexpected error: \(error)")
            return ErrorKind.internal.status
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

    /// A `size_t` argument, which Swift sees as `Int`: a value of 2^63 or more arrives negative
    /// and is rejected here (naming it as the caller wrote it) before any size is computed from it.
    @discardableResult
    static func size(_ value: Int, _ name: String) throws -> Int {
        guard value >= 0 else {
            throw AVPGANError(.invalidArgument, "\(name) is \(UInt(bitPattern: value)), 2^63 or more: no buffer is that large (a negative value converted to size_t?)")
        }
        return value
    }

    /// Reads a caller's params struct of `struct_size` bytes over `defaults`: an older, shorter
    /// struct keeps the defaults of the fields it lacks; a newer, longer one is accepted only
    /// when the fields this library does not know are all zero (their defaults).
    static func params<T>(_ pointer: UnsafePointer<T>?, defaults: T, minimumSize: Int, name: String) throws -> T {
        guard let pointer else { return defaults }
        let size = try Argument.size(UnsafeRawPointer(pointer).load(as: Int.self), "\(name).struct_size")
        let known = MemoryLayout<T>.stride
        try structSize(size, minimum: minimumSize, name: name)
        if size > known {
            let tail = UnsafeRawBufferPointer(start: UnsafeRawPointer(pointer) + known, count: size - known)
            guard tail.allSatisfy({ $0 == 0 }) else {
                throw AVPGANError(.unsupported, "\(name) sets fields this library (\(LibraryVersion.string)) does not know: struct_size \(size) > \(known) with a non-zero tail")
            }
        }
        var value = defaults
        withUnsafeMutableBytes(of: &value) { $0.copyMemory(from: UnsafeRawBufferPointer(start: pointer, count: min(size, known))) }
        return value
    }

    /// Fills a caller's out-struct of `struct_size` bytes from `value`: the fields both know,
    /// then zeros for fields of a newer header that this library does not know.
    static func fill<T>(_ pointer: UnsafeMutablePointer<T>, with value: T, size: Int, minimumSize: Int, name: String) throws {
        try structSize(size, minimum: minimumSize, name: name)
        let known = MemoryLayout<T>.stride
        var value = value
        let raw = UnsafeMutableRawPointer(pointer)
        withUnsafeBytes(of: &value) { raw.copyMemory(from: $0.baseAddress!, byteCount: min(size, known)) }
        if size > known { (raw + known).initializeMemory(as: UInt8.self, repeating: 0, count: size - known) }
        raw.storeBytes(of: size, as: Int.self)
    }

    /// struct_size must be at least the size the struct had when it was introduced.
    static func structSize(_ size: Int, minimum: Int, name: String) throws {
        try Argument.size(size, "\(name).struct_size")
        guard size >= minimum, size <= 1 << 16 else {
            throw AVPGANError(.invalidArgument, "\(name).struct_size is \(size); it must be at least \(minimum) (set it to sizeof the struct)")
        }
    }

    /// Copies `text` into a fixed `char[N]` field of an info struct (a C tuple), truncated to
    /// N - 1 bytes and NUL-terminated.
    static func copyName<T>(_ text: String, into field: inout T) {
        withUnsafeMutableBytes(of: &field) { dst in
            dst.copyBytes(from: Array(text.utf8.prefix(dst.count - 1)) + [0])
        }
    }

    /// Copies `values` into a fixed array field of an info struct (a C tuple of `Value`), as
    /// many as fit; the rest of the field is left as it is.
    static func copyValues<Field, Value>(_ values: [Value], into field: inout Field) {
        withUnsafeMutableBytes(of: &field) { raw in
            let slots = raw.bindMemory(to: Value.self)
            for (i, v) in values.prefix(slots.count).enumerated() { slots[i] = v }
        }
    }

    /// An `avpgan_pixels` value: nil for AVPGAN_PIXELS_MODEL_DEFAULT (0).
    static func pixels(_ code: Int32, name: String) throws -> PixelMapping? {
        switch code {
        case 0: return nil
        case PixelMapping.clamp.code: return .clamp
        case PixelMapping.minmax.code: return .minmax
        default: throw AVPGANError(.invalidArgument, "\(name) is \(code), not an avpgan_pixels value")
        }
    }

    /// The buffer convention: writes `needed`, returns false for a (NULL, 0) size query, and
    /// throws for a NULL buffer with a capacity or a buffer that is too small.
    static func buffer<T>(_ pointer: UnsafeMutablePointer<T>?, capacity: Int, needed: Int,
                          neededOut: UnsafeMutablePointer<Int>?, name: String, unit: String) throws -> Bool {
        try Argument.size(capacity, "capacity of \(name)")
        neededOut?.pointee = needed
        if pointer == nil && capacity == 0 { return false }
        guard pointer != nil else { throw AVPGANError(.invalidArgument, "\(name) is NULL but capacity is \(capacity)") }
        guard capacity >= needed else {
            throw AVPGANError(.bufferTooSmall, "\(name) holds \(capacity) \(unit) but the result needs \(needed)")
        }
        return true
    }
}
