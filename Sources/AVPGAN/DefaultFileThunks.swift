import AVPGANCore
#if canImport(Glibc)
import Glibc
#endif

// The default model's and the default enhancer's locations, looked up beside this library
// (AVPGANCore.DefaultFile).

/// The path of the shared object this code lives in: the /proc/self/maps entry that holds one
/// of its own functions (Linux), the anchor of the "beside the library" candidates.
private let libraryPath: String? = {
    let probe: @convention(c) (UnsafeMutablePointer<CChar>?, Int, UnsafeMutablePointer<Int>?) -> Int32 = avpgan_default_model_path
    let address = UInt(bitPattern: unsafeBitCast(probe, to: UnsafeRawPointer.self))
    guard let maps = readStream("/proc/self/maps") else { return nil }
    for line in String(decoding: maps, as: UTF8.self).split(separator: "\n") {
        // start-end perms offset dev inode path
        let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
        guard fields.count == 6, let dash = fields[0].firstIndex(of: "-"),
              let start = UInt(fields[0][..<dash], radix: 16),
              let end = UInt(fields[0][fields[0].index(after: dash)...], radix: 16),
              (start..<end).contains(address) else { continue }
        let path = String(fields[5]).trimmingWhitespace
        return path.hasPrefix("/") ? path : nil
    }
    return nil
}()

/// All bytes of a file whose size stat() does not tell (procfs), read until end of file.
private func readStream(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = [], chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { return n == 0 ? bytes : nil }
        bytes += chunk[0..<n]
    }
}

/// Copies `file`'s looked-up path into `path` (the buffer contract of `Argument.buffer`).
private func defaultPath(_ file: DefaultFile, _ path: UnsafeMutablePointer<CChar>?, _ capacity: Int,
                         _ needed: UnsafeMutablePointer<Int>?) -> Int32 {
    CallBoundary.run {
        let lookup = file.locate(anchor: libraryPath)
        guard let found = lookup.path else { throw AVPGANError(.io, lookup.notFoundMessage) }
        let bytes = Array(found.utf8CString)
        guard try Argument.buffer(path, capacity: capacity, needed: bytes.count, neededOut: needed,
                                  name: "path", unit: "bytes") else { return }
        bytes.withUnsafeBufferPointer { path!.update(from: $0.baseAddress!, count: bytes.count) }
    }
}

@_cdecl("avpgan_default_model_path")
public func avpgan_default_model_path(_ path: UnsafeMutablePointer<CChar>?, _ capacity: Int,
                                      _ needed: UnsafeMutablePointer<Int>?) -> Int32 {
    defaultPath(.model, path, capacity, needed)
}

@_cdecl("avpgan_default_enhancer_path")
public func avpgan_default_enhancer_path(_ path: UnsafeMutablePointer<CChar>?, _ capacity: Int,
                                         _ needed: UnsafeMutablePointer<Int>?) -> Int32 {
    defaultPath(.enhancer, path, capacity, needed)
}
