#if canImport(Glibc)
import Glibc
#endif

/// Where the default model is looked for when the caller names none, in order:
/// 1. `$AVPGAN_MODEL`, when set (and then only there: an explicit choice that is missing is an
///    error, never silently replaced);
/// 2. beside the running program or library (`anchor`, the path of the executable or of
///    libavpgan.so): `<prefix>/share/avpgan/default.safetensors` for `<prefix>/bin/avpgan` or
///    `<prefix>/lib[/<multiarch>]/libavpgan.so` (what `make install PREFIX=...` lays out), and a
///    checkout's `models/default.safetensors` for its `build/bin/avpgan` or `build/lib/`;
/// 3. `/usr/share/avpgan/default.safetensors`, where the Debian package libavpgan0 puts it.
public enum DefaultModel {
    public static let environmentVariable = "AVPGAN_MODEL"
    public static let systemPath = "/usr/share/avpgan/default.safetensors"

    /// The result of a lookup: the first readable candidate, and every place looked at (for a
    /// message that tells the user where to put a model).
    public struct Lookup: Sendable {
        public let path: String?
        public let tried: [String]

        /// "no default model: looked at A, B, C; give one with --model or $AVPGAN_MODEL".
        public var notFoundMessage: String {
            "no default model was found (looked at: \(tried.joined(separator: ", "))); name a model file, or set "
                + "$\(DefaultModel.environmentVariable)"
        }
    }

    /// The candidates for a program or library at `anchor` (nil: none beside it).
    public static func candidates(environment: String?, anchor: String?) -> [String] {
        if let environment, !environment.isEmpty { return [environment] }
        var list: [String] = []
        if let anchor, let dir = parent(of: anchor) {
            let up1 = parent(of: dir), up2 = up1.flatMap(parent)
            for prefix in [up1, up2].compactMap({ $0 }) { list.append(prefix + "/share/avpgan/default.safetensors") }
            // build/bin/avpgan or build/lib/libavpgan.so.0 of a checkout.
            if let up1, up1.hasSuffix("/build"), let root = parent(of: up1) { list.append(root + "/models/default.safetensors") }
        }
        list.append(systemPath)
        var seen = Set<String>()
        return list.filter { seen.insert($0).inserted }
    }

    /// Looks the default model up for a program or library at `anchor`.
    public static func locate(anchor: String?) -> Lookup {
        let environment = getenv(environmentVariable).map { String(cString: $0) }
        let list = candidates(environment: environment, anchor: anchor)
        let found = list.first { access($0, R_OK) == 0 }
        var tried = list
        if let environment, !environment.isEmpty { tried = ["$\(environmentVariable) (\(environment))"] }
        return Lookup(path: found, tried: tried)
    }

    /// The running executable's path (`/proc/self/exe`), if the system tells it.
    public static func executablePath() -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func parent(of path: String) -> String? {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return nil }
        return String(path[..<slash])
    }
}
