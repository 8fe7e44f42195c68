@testable import AVPGANCore
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Paths and readers for the committed fixtures (Tests/Fixtures, made by tools/fixtures/make_golden.py).
enum Fixtures {
    static let root: String = {
        var path = "\(#filePath)"
        for _ in 0..<2 { path = String(path[..<path.lastIndex(of: "/")!]) }
        return path + "/Fixtures"
    }()

    static let architectures = ["voice2face", "avpgan", "avpgan-nocbam"]

    static func golden(_ arch: String) -> String { "\(root)/golden/\(arch)" }

    static func bytes(_ path: String) throws -> [UInt8] { try FileIO.read(path) }

    /// A new empty directory under /tmp for one test; `removeDirectory` deletes it.
    static func temporaryDirectory(_ prefix: String) -> String {
        var template = Array("/tmp/avpgan-\(prefix)-XXXXXX".utf8CString)
        return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    }

    static func removeDirectory(_ path: String) {
        guard path.hasPrefix("/tmp/avpgan-") else { return }
        _ = system("rm -rf '\(path)'")
    }

    /// A plain safetensors file of named arrays (inputs and reference outputs).
    struct Arrays {
        let file: Safetensors

        init(_ path: String) throws { file = try Safetensors(bytes: try FileIO.read(path)) }

        func floats(_ name: String) throws -> [Float] {
            guard let e = file.entry(name) else { throw AVPGANError(.internal, "fixture has no \(name)") }
            return try file.floats(e)
        }

        func shape(_ name: String) -> [Int] { file.entry(name)?.shape ?? [] }

        func bytes(_ name: String) -> [UInt8] { file.entry(name).map(file.rawBytes) ?? [] }
    }
}

/// The largest |a[i] - b[i]| and where it is.
func maxAbsDifference(_ a: [Float], _ b: [Float]) -> (value: Float, index: Int) {
    var worst: (Float, Int) = (0, 0)
    for i in 0..<min(a.count, b.count) where abs(a[i] - b[i]) > worst.0 || a[i].isNaN != b[i].isNaN {
        worst = (a[i].isNaN || b[i].isNaN ? .infinity : abs(a[i] - b[i]), i)
    }
    return worst
}
