import AVPGANCore
#if canImport(Glibc)
import Glibc
#endif

/// Runs one job per input file for commands that take `VOICE...`: finds the audio files in
/// the arguments (directories are walked recursively, in sorted order), shows a progress bar
/// on a terminal, prints one line per failed file without stopping, and reports how many failed.
enum BatchRunner {
    /// The files named by `arguments`: files as given, directories walked for audio files.
    /// A missing argument is reported as a failure rather than dropped.
    static func inputs(_ arguments: [String]) -> [String] {
        var out: [String] = []
        for a in arguments {
            var st = stat()
            if stat(a, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
                out += walk(a)
            } else {
                out.append(a)
            }
        }
        return out
    }

    private static func walk(_ directory: String) -> [String] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        var out: [String] = []
        for name in names.sorted() {
            let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            var st = stat()
            guard stat(path, &st) == 0 else { continue }
            if (st.st_mode & S_IFMT) == S_IFDIR {
                out += walk(path)
            } else if let dot = name.lastIndex(of: "."), AudioDecoder.fileExtensions.contains(name[name.index(after: dot)...].lowercased()) {
                out.append(path)
            }
        }
        return out
    }

    /// The output of each input: `single` (-o) for one input, else `outDir/<stem>.png`, with
    /// `-2`, `-3`, ... for inputs of the same name in different folders.
    static func outputs(for inputs: [String], single: String?, outDir: String) -> [String] {
        var used: [String: Int] = [:]
        return inputs.map { input -> String in
            if let single { return single }
            let stem = stem(input)
            used[stem, default: 0] += 1
            return used[stem]! == 1 ? "\(outDir)/\(stem).png" : "\(outDir)/\(stem)-\(used[stem]!).png"
        }
    }

    /// Makes `--out-dir` when it is missing (several ranks of one mpirun may race: EEXIST is
    /// success); a failure ends the command.
    static func makeOutputDirectory(_ outDir: String) {
        var st = stat()
        if stat(outDir, &st) != 0 && mkdir(outDir, 0o755) != 0 && errno != EEXIST {
            fail("cannot create --out-dir '\(outDir)': \(String(cString: strerror(errno)))")
        }
    }

    /// When `path` exists and `--overwrite` was not given: the note to print instead of
    /// replacing it. Outputs are never replaced silently.
    static func existingOutputNote(_ path: String, overwrite: Bool) -> String? {
        guard !overwrite, access(path, F_OK) == 0 else { return nil }
        return "\(path) exists: skipped (--overwrite replaces it)"
    }

    /// The file name without directory and extension.
    static func stem(_ path: String) -> String {
        let base = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = base.lastIndex(of: "."), dot != base.startIndex else { return base }
        return String(base[..<dot])
    }

    /// Runs `job(index, input)` on every input; returns the number of failures.
    static func run(_ inputs: [String], verb: String, job: (Int, String) throws -> String) -> Int {
        let progress = isatty(STDERR_FILENO) == 1 && inputs.count > 1
        var failed = 0
        for (i, input) in inputs.enumerated() {
            if progress { drawProgress(done: i, total: inputs.count, current: input) }
            do {
                let result = try job(i, input)
                if progress { clearProgress() }
                print(result)
            } catch let e as AVPGANError {
                failed += 1
                if progress { clearProgress() }
                fputs("avpgan: \(input): \(e.message) [\(e.kind.statusName)]\n", stderr)
            } catch {
                failed += 1
                if progress { clearProgress() }
                fputs("avpgan: \(input): \(error)\n", stderr)
            }
        }
        if progress { clearProgress() }
        if inputs.count > 1 {
            fputs("avpgan: \(verb) \(inputs.count - failed) of \(inputs.count) files\(failed > 0 ? ", \(failed) failed" : "")\n", stderr)
        }
        return failed
    }

    private static func drawProgress(done: Int, total: Int, current: String) {
        let width = 30
        let filled = done * width / max(total, 1)
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let name = stem(current)
        fputs("\r[\(bar)] \(done)/\(total) \(name.prefix(40))\u{1B}[K", stderr)
        fflush(stderr)
    }

    private static func clearProgress() {
        fputs("\r\u{1B}[K", stderr)
        fflush(stderr)
    }
}
