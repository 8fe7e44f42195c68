#if canImport(Glibc)
import Glibc
#endif

extension FileIO {
    /// Creates the folder `path` (mode 0755) unless it exists; its parent must exist.
    public static func makeDirectory(_ path: String) throws {
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw AVPGANError(.io, "cannot create '\(path)': \(errorText())")
        }
    }
}
