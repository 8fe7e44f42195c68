@testable import AVPGANCore
import XCTest

/// The JSON parser and the safetensors writer/reader, on their own.
final class FormatTests: XCTestCase {
    func testJSONValues() throws {
        let v = try JSON.parse(#" {"a": [1, -2.5e1, true, null], "b": "x\"\u00e9\ud83d\ude00", "c": {}} "#)
        XCTAssertEqual(v["a"]?.arrayValue?.count, 4)
        XCTAssertEqual(v["a"]?.arrayValue?[0].integerValue, 1)
        XCTAssertEqual(v["a"]?.arrayValue?[1].doubleValue, -25)
        XCTAssertNil(v["a"]?.arrayValue?[1].integerValue, "-2.5e1 is not an integer literal")
        XCTAssertEqual(v["b"]?.stringValue, "x\"é😀")
        XCTAssertEqual(try JSON.parse(v.serialized), v, "serialize/parse round trip")
    }

    func testJSONRejects() {
        for bad in ["", "{", "{\"a\":}", "[1,]", "01", "1.", "\"\\x\"", "{\"a\":1} x", "\"\u{01}\"", "\"\\ud800\"",
                    String(repeating: "[", count: 100) + String(repeating: "]", count: 100)] {
            XCTAssertThrowsError(try JSON.parse(bad), "accepted invalid JSON \(bad.prefix(20))") { e in
                XCTAssertEqual((e as? AVPGANError)?.kind, .modelFormat)
            }
        }
    }

    func testSafetensorsRoundTripAndHalfPrecision() throws {
        let half: [Float16] = [1.5, -2, 0.25]
        let bf16: [UInt16] = [0x3FC0, 0xC000]  // 1.5, -2
        let bytes = SafetensorsWriter.serialize([
            .init(name: "a", shape: [2, 2], floats: [1, 2, 3, 4]),
            .init(name: "h", dtype: .f16, shape: [3], data: half.withUnsafeBytes { Array($0) }),
            .init(name: "b", dtype: .bf16, shape: [2], data: bf16.withUnsafeBytes { Array($0) }),
            .init(name: "u", dtype: .u8, shape: [3], data: [7, 8, 9]),
        ], metadata: ["k": "v"])
        XCTAssertEqual(bytes.count % 8, (3 * 2 + 2 * 2 + 16 + 3) % 8, "header padded so data starts at a multiple of 8")
        let file = try Safetensors(bytes: bytes)
        XCTAssertEqual(file.metadata, ["k": "v"])
        XCTAssertEqual(try file.floats(file.entry("a")!), [1, 2, 3, 4])
        XCTAssertEqual(try file.floats(file.entry("h")!), [1.5, -2, 0.25])
        XCTAssertEqual(try file.floats(file.entry("b")!), [1.5, -2])
        XCTAssertEqual(file.rawBytes(file.entry("u")!), [7, 8, 9])
        XCTAssertThrowsError(try file.floats(file.entry("u")!), "U8 is not a float tensor")
    }

    /// `CheckedTensors.storage` (weights copied once, straight from the file into aligned
    /// storage) gives the values `floats` gives, for every float dtype, and makes the same checks.
    func testWeightStorageEqualsFloatsAndChecksValues() throws {
        let half: [Float16] = [1.5, -2, 0.25]
        let bf16: [UInt16] = [0x3FC0, 0xC000]
        let bytes = SafetensorsWriter.serialize([
            .init(name: "a", shape: [5], floats: [1, -2, 3e-8, 4, 5]),
            .init(name: "h", dtype: .f16, shape: [3], data: half.withUnsafeBytes { Array($0) }),
            .init(name: "b", dtype: .bf16, shape: [2], data: bf16.withUnsafeBytes { Array($0) }),
            .init(name: "nan", shape: [3], floats: [0, .nan, 1]),
            .init(name: "bn.running_var", shape: [2], floats: [1, -0.5]),
            .init(name: "empty", shape: [0], floats: []),
        ], metadata: [:])
        let file = try Safetensors(bytes: bytes)
        let tensors = try CheckedTensors(file: file, expected: file.entries.map { ($0.name, $0.shape) }, missing: "test", extra: "test")
        for name in ["a", "h", "b", "empty"] {
            let storage = try tensors.storage(name)
            XCTAssertEqual(storage.array, try tensors.floats(name), "storage(\(name)) differs from floats(\(name))")
            XCTAssertEqual(Int(bitPattern: storage.pointer) % 64, 0, "storage(\(name)) is not 64-byte aligned")
        }
        for (name, cause) in [("nan", "non-finite value (nan) at element 1"), ("bn.running_var", "negative value (-0.5) at element 1")] {
            XCTAssertThrowsError(try tensors.storage(name), "storage(\(name)) accepted a bad value") { e in
                XCTAssertEqual((e as? AVPGANError)?.kind, .modelFormat)
                let message = "\(e)"
                XCTAssertTrue(message.contains(name) && message.contains(cause), "storage(\(name)) message does not name the cause: \(message)")
            }
        }
    }

    func testWriterMetadataRoundTripsThroughConfig() throws {
        let config = ModelConfig(arch: .avpgan, networks: [.voiceEncoder, .generator, .faceEncoder, .discriminator, .classifier],
                                 embedDim: 16, voiceWidths: [32, 48], generatorWidths: [128, 64, 32], faceWidths: [8, 16, 32],
                                 identities: 5, spectralNorm: .stored, pixels: .minmax)
        XCTAssertEqual(try ModelConfig.parse(metadata: config.metadata), config)
    }
}

/// The .npy reader and writer.
final class NPYTests: XCTestCase {
    func testRoundTrip() throws {
        let values: [Float] = [1, -2.5, 3e-8, 4, 5, 6]
        for shape in [[6], [2, 3], [1, 6, 1]] {
            let bytes = NPY.write(values, shape: shape)
            XCTAssertEqual((bytes.count - values.count * 4) % 64, 0, "header padded to 64 bytes as numpy does")
            let (read, readShape) = try NPY.read(bytes)
            XCTAssertEqual(read, values)
            XCTAssertEqual(readShape, shape)
        }
    }

    func testRejectsWhatItCannotRead() {
        let good = NPY.write([1, 2], shape: [2])
        func mutated(_ edit: (inout String) -> Void) -> [UInt8] {
            var text = String(decoding: good[10..<(good.count - 8)], as: UTF8.self)
            edit(&text)
            return Array(good[0..<8]) + [UInt8(text.utf8.count & 0xFF), UInt8(text.utf8.count >> 8)] + Array(text.utf8) + Array(good.suffix(8))
        }
        let cases: [(String, [UInt8], String)] = [
            ("empty", [], "magic"),
            ("truncated data", Array(good.dropLast(1)), "does not match"),
            ("int32", mutated { $0 = $0.replacingAll("<f4", with: "<i4") }, "dtype"),
            ("big-endian", mutated { $0 = $0.replacingAll("<f4", with: ">f4") }, "dtype"),
            ("fortran", mutated { $0 = $0.replacingAll("False", with: "True ") }, "Fortran"),
            ("shape", mutated { $0 = $0.replacingAll("(2,)", with: "(3,)") }, "does not match"),
        ]
        for (what, bytes, fragment) in cases {
            XCTAssertThrowsError(try NPY.read(bytes), what) { e in
                let message = (e as? AVPGANError)?.message ?? ""
                XCTAssertTrue(message.contains(fragment), "\(what): message '\(message)' should mention '\(fragment)'")
            }
        }
    }
}

extension String {
    fileprivate func replacingAll(_ a: String, with b: String) -> String {
        var out = "", rest = Substring(self)
        while let r = rest.firstRange(of: a) {
            out += rest[..<r.lowerBound] + b
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}
