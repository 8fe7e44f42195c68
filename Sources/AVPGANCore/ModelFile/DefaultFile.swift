#if canImport(Glibc)
import Glibc
#endif

/// A file the library uses when the caller names none: the default model
/// (`DefaultFile.model`, `default.safetensors`, `$AVPGAN_MODEL`) and the default enhancer
/// (`DefaultFile.enhancer`, `default-enhancer.safetensors`, `$AVPGAN_ENHANCER`). Each is looked
/// for, in order:
/// 1. its environment variable, when set (and then only there: an explicit choice that is
///    missing is an error, never silently replaced);
/// 2. beside the running program or library (`anchor`, the path of the executable or of
///    libavpgan.so): `<prefix>/share/avpgan/<name>` for `<prefix>/bin/avpgan` or
///    `<prefix>/lib[/<multiarch>]/libavpgan.so` (what `make install PREFIX=...` and the wheel
///    lay out), and a checkout's `models/<name>` for its `build/bin/avpgan` or `build/lib/`;
/// 3. `/usr/share/avpgan/<name>`, where the Debian package libavpgan0 puts it.
public struct DefaultFile: Sendable {
    /// The file's name in every place it is looked for.
    public let name: String
    public let environmentVariable: String
    /// What it is, for messages ("model", "enhancer").
    public let noun: String

    public static let model = DefaultFile(name: "default.safetensors", environmentVariable: "AVPGAN_MODEL", noun: "model")
    public static let enhancer = DefaultFile(name: "default-enhancer.safetensors", environmentVariable: "AVPGAN_ENHANCER",
                                             noun: "enhancer")

    /// `/usr/share/avpgan/<name>`.
    public var systemPath: String { "/usr/share/avpgan/" + name }

    /// The result of a lookup: the first readable candidate, and every place looked at (for a
    /// message that tells the user where to put the file).
    public struct Lookup: Sendable {
        public let path: String?
        public let tried: [String]
        let file: DefaultFile

        /// "no default model was found (looked at: A, B, C); name a model file, or set $AVPGAN_MODEL".
        public var notFoundMessage: String {
            "no default \(file.noun) was found (looked at: \(tried.joined(separator: ", "))); name \(file.noun.article) "
                + "\(file.noun) file, or set $\(file.environmentVariable)"
        }
    }

    /// The candidates for a program or library at `anchor` (nil: none beside it).
    public func candidates(environment: String?, anchor: String?) -> [String] {
        if let environment, !environment.isEmpty { return [environment] }
        var list: [String] = []
        if let anchor, let dir = Self.parent(of: anchor) {
            let up1 = Self.parent(of: dir), up2 = up1.flatMap(Self.parent)
            for prefix in [up1, up2].compactMap({ $0 }) { list.append(prefix + "/share/avpgan/" + name) }
            // build/bin/avpgan or build/lib/libavpgan.so.0 of a checkout.
            if let up1, up1.hasSuffix("/build"), let root = Self.parent(of: up1) { list.append(root + "/models/" + name) }
        }
        list.append(systemPath)
        var seen = Set<String>()
        return list.filter { seen.insert($0).inserted }
    }

    /// Looks the file up for a program or library at `anchor`.
    public func locate(anchor: String?) -> Lookup {
        let environment = getenv(environmentVariable).map { String(cString: $0) }
        let list = candidates(environment: environment, anchor: anchor)
        let found = list.first { access($0, R_OK) == 0 }
        var tried = list
        if let environment, !environment.isEmpty { tried = ["$\(environmentVariable) (\(environment))"] }
        return Lookup(path: found, tried: tried, file: self)
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

private extension String {
    /// "a" or "an" before this word.
    var article: String { first.map { "aeiou".contains($0) } == true ? "an" : "a" }
}
