import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Numbers the temporary files of `FileIO.write` within the process.
private let temporaryCounter = Atomic<Int>(0)

/// Whole-file reading with errors that name the path and the cause.
public enum FileIO {
    /// The bytes of the regular file at `path` (`.io` when it cannot be read).
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

    /// The SHA-256 (lowercase hex) of the file at `path`, read 1 MiB at a time.
    public static func sha256(_ path: String) throws -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw AVPGANError(.io, "cannot open '\(path)': \(errorText())") }
        defer { close(fd) }
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw AVPGANError(.io, "cannot read '\(path)': \(errorText())") }
            if n == 0 { break }
            hasher.update(buffer[0..<n])
        }
        return hasher.hexDigest()
    }

    /// Writes `bytes` to `path` through a temporary file beside it (created exclusively, so
    /// concurrent writers never share one), flushed to disk and renamed into place: `path` is
    /// either the complete new file or untouched, and no temporary file is left. Only regular
    /// files are written: an existing device, FIFO, socket or directory at `path` is an
    /// `.io` error (renaming over it would replace the node, e.g. /dev/null).
    public static func write(_ bytes: [UInt8], to path: String) throws {
        var existing = stat()
        if stat(path, &existing) == 0, (existing.st_mode & S_IFMT) != S_IFREG {
            throw AVPGANError(.io, "cannot write '\(path)': it is \(kind(existing.st_mode)), not a regular file (outputs are written only to regular files)")
        }
        let (fd, temporary) = try createTemporary(beside: path)
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
        guard fsync(fd) == 0 || errno == EINVAL, close(fd) == 0, rename(temporary, path) == 0 else {
            let why = errorText()
            unlink(temporary)
            throw AVPGANError(.io, "cannot write '\(path)': \(why)")
        }
    }

    /// A new file `path.tmp-<pid>-<n>` opened for writing (mode 0644 less the umask), with O_EXCL
    /// so that no existing file, link or other writer's temporary file is ever reused.
    private static func createTemporary(beside path: String) throws -> (Int32, String) {
        for _ in 0..<100 {
            let n = temporaryCounter.add(1, ordering: .relaxed).newValue
            let temporary = path + ".tmp-\(getpid())-\(n)"
            let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if fd >= 0 { return (fd, temporary) }
            if errno != EEXIST { throw AVPGANError(.io, "cannot create '\(temporary)': \(errorText())") }
        }
        throw AVPGANError(.io, "cannot create a temporary file beside '\(path)': 100 names were taken")
    }

    /// Names a file type for messages: "a directory", "a character device", ...
    static func kind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: return "a directory"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFIFO: return "a FIFO"
        case S_IFSOCK: return "a socket"
        default: return "not a regular file"
        }
    }

    static func errorText() -> String { String(cString: strerror(errno)) }
}
