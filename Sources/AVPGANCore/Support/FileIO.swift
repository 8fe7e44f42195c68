#if canImport(Glibc)
import Glibc
#endif

/// Whole-file reading with errors that name the path and the cause.
public enum FileIO {
    /// The bytes of the regular file at `path` (`AVPGAN_E_IO` when it cannot be read).
    public static func read(_ path: String, limit: Int = Int.max) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw AVPGANError(.io, "cannot open '\(path)': \(errorText())") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw AVPGANError(.io, "cannot stat '\(path)': \(errorText())") }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            let what = (info.st_mode & S_IFMT) == S_IFDIR ? "a directory" : "not a regular file"
            throw AVPGANError(.io, "'\(path)' is \(what)")
        }
        let size = Int(info.st_size)
        guard size <= limit else { throw AVPGANError(.io, "'\(path)' is \(size) bytes, more than the limit of \(limit)") }
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        while done < size {
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + done, size - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw AVPGANError(.io, n == 0 ? "'\(path)' ended after \(done) of \(size) bytes" : "cannot read '\(path)': \(errorText())")
            }
            done += n
        }
        return bytes
    }

    /// Writes `bytes` to `path` through a temporary file renamed into place, so a failure
    /// leaves no partial file.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw AVPGANError(.io, "cannot create '\(temporary)': \(errorText())") }
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, bytes.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let why = errorText()
                close(fd)
                unlink(temporary)
                throw AVPGANError(.io, "cannot write '\(path)': \(why)")
            }
            done += n
        }
        guard close(fd) == 0, rename(temporary, path) == 0 else {
            let why = errorText()
            unlink(temporary)
            throw AVPGANError(.io, "cannot write '\(path)': \(why)")
        }
    }

    static func errorText() -> String { String(cString: strerror(errno)) }
}
