#if canImport(Glibc)
import Glibc
#endif
import CBLAS

/// The OpenBLAS kernels for this CPU when OpenBLAS did not recognise it.
///
/// A DYNAMIC_ARCH OpenBLAS (Debian's) picks its kernels from the CPU model when it loads, and a
/// model newer than its table gets older kernels: Debian 12's 0.3.21 gives the Xeons of family
/// 6, model 207 (AVX-512) its Prescott (SSE3) kernels, where SGEMM runs at about a third of its
/// SkylakeX rate (docs/enhancer-training.md), and gave the Zen 5 of an earlier session its
/// Haswell ones (half the SkylakeX rate, docs/performance.md). `ensure()` (run once by `BLAS`,
/// before its first call into OpenBLAS) switches such an OpenBLAS to the kernels the CPU's flags
/// allow, as `OPENBLAS_CORETYPE` would have at load: SkylakeX with AVX-512 (F, CD, BW, DQ, VL)
/// in place of Prescott, Haswell or Zen; Haswell with AVX2 and FMA in place of Prescott. It
/// changes nothing when `OPENBLAS_CORETYPE` is set and not empty (the user's choice), when
/// OpenBLAS chose any other core, or when OpenBLAS is not a DYNAMIC_ARCH build (no
/// `gotoblas_dynamic_init`).
///
/// The switch sets `OPENBLAS_CORETYPE` for the length of the call into OpenBLAS and removes it:
/// a host thread reading the environment at that moment (once per process, at the library's
/// first BLAS call) races with it, as with any `setenv`.
enum OpenBLASCore {
    /// OpenBLAS's name of the kernels in use (`openblas_get_corename`), after `ensure()`.
    static let name: String = {
        switchIfMisdetected()
        return String(cString: openblas_get_corename())
    }()

    /// Runs the switch once (thread-safe); every `BLAS` call passes here first.
    @inline(__always)
    static func ensure() { _ = name }

    /// The core to force, or nil to keep OpenBLAS's choice: `current` its core name, `flags`
    /// the CPU's feature flags as /proc/cpuinfo spells them, `forced` whether
    /// `OPENBLAS_CORETYPE` is set and not empty.
    static func replacement(current: String, flags: Set<String>, forced: Bool) -> String? {
        guard !forced else { return nil }
        let core = current.lowercased()
        if ["prescott", "haswell", "zen"].contains(core),
           flags.isSuperset(of: ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]) { return "SkylakeX" }
        if core == "prescott", flags.isSuperset(of: ["avx2", "fma"]) { return "Haswell" }
        return nil
    }

    /// The first CPU's flags from /proc/cpuinfo (empty if it cannot be read). The kernel lists
    /// AVX-512 only when it saves its registers, so a listed flag is usable.
    static func cpuFlags() -> Set<String> {
        guard let file = fopen("/proc/cpuinfo", "r") else { return [] }
        defer { fclose(file) }
        // Read with fread into Swift's own buffer, at most 4 MiB (not getline: the fuzzers'
        // AddressSanitizer build reported freeing getline's buffer as a bad free).
        var bytes: [UInt8] = [], chunk = [UInt8](repeating: 0, count: 1 << 14)
        while bytes.count < 1 << 22 {
            let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            guard n > 0 else { break }
            bytes += chunk[..<n]
        }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where line.hasPrefix("flags") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
        }
        return []
    }

    private static func switchIfMisdetected() {
        let current = String(cString: openblas_get_corename()), given = getenv("OPENBLAS_CORETYPE")
        guard let core = replacement(current: current, flags: cpuFlags(), forced: given.map { $0.pointee != 0 } ?? false),
              let quitSymbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "gotoblas_dynamic_quit"),
              let initSymbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "gotoblas_dynamic_init") else { return }
        typealias Entry = @convention(c) () -> Void
        // gotoblas_dynamic_init reads OPENBLAS_CORETYPE only when no core is chosen: clear the
        // choice, name the core for the call, and leave the environment as it was.
        setenv("OPENBLAS_CORETYPE", core, 1)
        unsafeBitCast(quitSymbol, to: Entry.self)()
        unsafeBitCast(initSymbol, to: Entry.self)()
        if given == nil { unsetenv("OPENBLAS_CORETYPE") } else { setenv("OPENBLAS_CORETYPE", "", 1) }
    }
}
