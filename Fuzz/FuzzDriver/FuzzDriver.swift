import CFuzzer

/// The body of one fuzz target: it gets each input libFuzzer makes, and must return normally
/// for every input (errors thrown by the library are the expected outcome of most of them).
public typealias FuzzBody = ([UInt8]) -> Void

nonisolated(unsafe) private var currentBody: FuzzBody?

/// Runs libFuzzer's driver over `body` with the process's command line (corpus directories,
/// -max_total_time, ...). Called from each target's `<target>_main`, which SwiftPM links as
/// `main` (`--defsym main=<module>_main`).
public func runFuzzer(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>, _ body: @escaping FuzzBody) -> Int32 {
    currentBody = body
    var argc = argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        currentBody!(size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
        return 0
    }
}

/// libFuzzer's per-input entry. The driver above passes its own callback; this symbol exists
/// because -sanitize=fuzzer links libFuzzer's main object, which references it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let body = currentBody else { fatalError("LLVMFuzzerTestOneInput before runFuzzer") }
    body(size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

/// Reads little-endian values off the front of a fuzz input, then hands over the rest.
public struct FuzzReader {
    public private(set) var bytes: ArraySlice<UInt8>

    public init(_ bytes: [UInt8]) { self.bytes = bytes[...] }

    /// The next byte, or 0 when the input is used up.
    public mutating func byte() -> UInt8 { bytes.popFirst() ?? 0 }

    /// The next `T` from up to `MemoryLayout<T>.size` bytes (missing bytes are 0).
    public mutating func integer<T: FixedWidthInteger>(_: T.Type = T.self) -> T {
        var v: T = 0
        for i in 0..<MemoryLayout<T>.size { v |= T(truncatingIfNeeded: byte()) << (8 * i) }
        return v
    }

    /// Everything not read yet.
    public mutating func rest() -> [UInt8] {
        defer { bytes = [] }
        return Array(bytes)
    }
}
