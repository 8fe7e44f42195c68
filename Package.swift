// swift-tools-version:5.9
//
// libavpgan: a Swift core (AVPGANCore) on OpenBLAS and a few C kernels chosen by CPUID
// (CKernels), a C ABI of @_cdecl thunks built as
// libavpgan.so (target AVPGAN), and a CLI. The Makefile drives the builds; see README.md.
import PackageDescription

/// The C library links the Swift runtime statically (no toolchain needed where it runs), carries
/// the SONAME libavpgan.so.0 and exports only the avpgan_* symbols of include/avpgan.h.
let sharedLibraryLinkerFlags: [String] = [
    "-static-stdlib",
    "-Xlinker", "-soname=libavpgan.so.0",
    "-Xlinker", "--version-script=\(Context.packageDirectory)/Sources/AVPGAN/exports.map",
    "-Xlinker", "-z", "-Xlinker", "defs",
]

let package = Package(
    name: "libavpgan",
    products: [
        .library(name: "avpgan", type: .dynamic, targets: ["AVPGAN"]),
        .executable(name: "avpgan-cli", targets: ["avpgan-cli"]),
    ],
    targets: [
        // System libraries from Debian packages (the Makefile installs them).
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas"),
        .systemLibrary(name: "CSndfile", path: "Sources/CSndfile", pkgConfig: "sndfile"),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng"),
        .systemLibrary(name: "CSoxr", path: "Sources/CSoxr", pkgConfig: "soxr"),
        .systemLibrary(name: "CTurboJPEG", path: "Sources/CTurboJPEG", pkgConfig: "libturbojpeg"),
        // The public header, imported so the thunks use its exact types.
        .systemLibrary(name: "CAVPGAN", path: "Sources/CAVPGAN"),

        // The hand-vectorised kernels OpenBLAS has no entry for (chosen at run time by CPUID),
        // optimised in debug builds too.
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O2"])]),
        .target(
            name: "AVPGANCore",
            dependencies: ["CBLAS", "CKernels", "CPNG", "CSndfile", "CSoxr", "CTurboJPEG"],
            // Optimised in debug builds too (tests run hot loops over real-size data); -O keeps
            // Swift's overflow and bounds checks, which the tests rely on.
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"]), .unsafeFlags(["-O"], .when(configuration: .debug))]
        ),
        .target(
            name: "AVPGAN",
            dependencies: ["AVPGANCore", "CAVPGAN"],
            exclude: ["exports.map"],  // the linker's version script, not a source
            linkerSettings: [.unsafeFlags(sharedLibraryLinkerFlags)]
        ),
        .executableTarget(
            name: "avpgan-cli",
            dependencies: ["AVPGANCore"],
            linkerSettings: [.unsafeFlags(["-static-stdlib"])]
        ),
        .testTarget(
            name: "AVPGANCoreTests",
            dependencies: ["AVPGANCore", "CSndfile", "CTurboJPEG"]
        ),
    ]
)

// libFuzzer targets (Fuzz/), only when AVPGAN_FUZZ is set: `make fuzz` builds them with
// -sanitize=fuzzer,address in their own scratch path. Each target's `<module>_main` is its entry
// (SwiftPM links an executable with --defsym main=<module>_main) and calls LLVMFuzzerRunDriver.
if Context.environment["AVPGAN_FUZZ"] != nil {
    package.targets += [
        .systemLibrary(name: "CFuzzer", path: "Sources/CFuzzer"),
        .target(name: "FuzzDriver", dependencies: ["CFuzzer"], path: "Fuzz/FuzzDriver"),
    ]
    for (name, dependency) in [("fuzz-model-files", "AVPGANCore"), ("fuzz-audio", "AVPGANCore"),
                               ("fuzz-images", "AVPGANCore"), ("fuzz-c-abi", "AVPGAN")] {
        let extra: [Target.Dependency] = dependency == "AVPGAN" ? ["CAVPGAN"] : []
        package.targets.append(.executableTarget(name: name, dependencies: ["FuzzDriver", .target(name: dependency)] + extra,
                                                 path: "Fuzz/\(name)"))
        package.products.append(.executable(name: name, targets: [name]))
    }
}
