#if canImport(Glibc)
import Glibc
#endif

/// A 64-byte-aligned, heap-allocated array of `Float` whose allocation failure is an error
/// (`.outOfMemory`) rather than a trap. Used for weights and for reusable scratch.
public final class FloatStorage: @unchecked Sendable {
    public private(set) var pointer: UnsafeMutablePointer<Float>
    public private(set) var count: Int

    /// Allocates `count` floats, zero-filled.
    public init(count: Int) throws {
        pointer = try FloatStorage.allocate(count)
        self.count = count
        pointer.initialize(repeating: 0, count: count)
    }

    /// Copies `values`.
    public convenience init(_ values: [Float]) throws {
        try self.init(count: values.count)
        values.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { pointer.update(from: base, count: values.count) }
        }
    }

    /// Allocates `count` floats and lets `fill` write every one of them (no zero-fill first: for
    /// weights copied straight from a file). If `fill` throws, nothing is kept.
    public init(count: Int, filledBy fill: (UnsafeMutablePointer<Float>) throws -> Void) throws {
        let fresh = try FloatStorage.allocate(count)
        do { try fill(fresh) } catch { free(fresh); throw error }
        pointer = fresh
        self.count = count
    }

    deinit { free(pointer) }

    /// Makes room for at least `count` floats; old contents are not kept.
    public func reserve(_ count: Int) throws {
        guard count > self.count else { return }
        let fresh = try FloatStorage.allocate(count)
        free(pointer)
        pointer = fresh
        self.count = count
    }

    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }
    public var array: [Float] { Array(buffer) }

    private static func allocate(_ count: Int) throws -> UnsafeMutablePointer<Float> {
        guard count >= 0, let bytes = Checked.multiply(max(count, 1), MemoryLayout<Float>.stride) else {
            throw AVPGANError(.outOfMemory, "cannot allocate \(count) floats")
        }
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, 64, bytes) == 0, let raw else {
            throw AVPGANError(.outOfMemory, "cannot allocate \(bytes) bytes")
        }
        return raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }
}
