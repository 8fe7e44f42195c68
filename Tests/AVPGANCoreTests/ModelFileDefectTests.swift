@testable import AVPGANCore
import XCTest

/// Every model-file defect of DESIGN.md / docs/model-format.md is rejected with the right
/// status and a message that names the cause. Defective files are made by editing a good one.
final class ModelFileDefectTests: XCTestCase {
    var good: [UInt8] = []
    var header: [(String, JSONValue)] = []
    var data: [UInt8] = []

    override func setUpWithError() throws {
        good = try Fixtures.bytes("\(Fixtures.golden("avpgan"))/model.safetensors")
        var n = 0
        for i in 0..<8 { n |= Int(good[i]) << (8 * i) }
        header = try good.withUnsafeBytes { try JSON.parse(UnsafeRawBufferPointer(rebasing: $0[8..<(8 + n)])) }.objectValue!
        data = Array(good[(8 + n)...])
    }

    /// Frames `header` and `data` as a safetensors file (no padding, no checks).
    func frame(_ header: [(String, JSONValue)], _ data: [UInt8]) -> [UInt8] {
        let json = Array(JSONValue.object(header).serialized.utf8)
        var out: [UInt8] = (0..<8).map { UInt8(truncatingIfNeeded: UInt64(json.count) >> (8 * UInt64($0))) }
        out += json
        return out + data
    }

    func metadata() -> [String: String] {
        Dictionary(uniqueKeysWithValues: header.first { $0.0 == "__metadata__" }!.1.objectValue!.map { ($0.0, $0.1.stringValue!) })
    }

    func withMetadata(_ edit: (inout [String: String]) -> Void) -> [UInt8] {
        var m = metadata()
        edit(&m)
        var h = header
        h[h.firstIndex { $0.0 == "__metadata__" }!].1 = .object(m.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
        return frame(h, data)
    }

    func withConfig(_ edit: (inout [(String, JSONValue)]) -> Void) throws -> [UInt8] {
        var config = try JSON.parse(metadata()["avpgan.config"]!).objectValue!
        edit(&config)
        return withMetadata { $0["avpgan.config"] = JSONValue.object(config).serialized }
    }

    func entry(_ name: String) -> JSONValue { header.first { $0.0 == name }!.1 }

    func replacing(_ name: String, with value: JSONValue) -> [(String, JSONValue)] {
        header.map { $0.0 == name ? ($0.0, value) : $0 }
    }

    func offsets(_ e: JSONValue) -> (Int, Int) {
        let o = e["data_offsets"]!.arrayValue!
        return (Int(o[0].integerValue!), Int(o[1].integerValue!))
    }

    func int(_ i: Int) -> JSONValue { .number(Double(i), integer: Int64(i)) }

    /// Loads `bytes` and checks the failure kind and that the message contains every fragment.
    func expect(_ bytes: [UInt8], _ kind: ErrorKind, _ fragments: String..., options: LoadOptions = LoadOptions(),
                file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try Model(bytes: bytes, options: options)
            XCTFail("loaded a defective file; expected \(kind) mentioning \(fragments)", file: file, line: line)
        } catch let e as AVPGANError {
            XCTAssertEqual(e.kind, kind, "status for defect \(fragments): \(e)", file: file, line: line)
            for f in fragments {
                XCTAssertTrue(e.message.contains(f), "message '\(e.message)' should mention '\(f)'", file: file, line: line)
            }
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
        }
    }

    func testGoodFileLoads() throws {
        XCTAssertNoThrow(try Model(bytes: frame(header, data)), "the re-framed fixture itself must load")
    }

    // MARK: Framing

    func testShorterThanLengthField() {
        expect([], .modelFormat, "0 bytes")
        expect(Array(good.prefix(5)), .modelFormat, "5 bytes")
    }

    func testHeaderLargerThanCap() {
        expect(good, .modelFormat, "exceeds the cap of 64 bytes", options: LoadOptions(maxHeaderBytes: 64))
    }

    func testHeaderLengthPastEndOfFile() {
        var bytes = good
        bytes[6] = 0x01  // a header length of ~2^48: over the default cap, and past the end
        expect(bytes, .modelFormat, "exceeds the cap")
        expect(bytes, .modelFormat, "runs past the end", options: LoadOptions(maxHeaderBytes: Int.max))
        expect(Array(good.prefix(100)), .modelFormat, "runs past the end")
    }

    func testHeaderNotJSONObject() {
        var bytes = frame(header, data)
        bytes[8] = UInt8(ascii: "[")
        expect(bytes, .modelFormat, "does not start with '{'")
        var broken = frame(header, data)
        broken[8 + JSONValue.object(header).serialized.utf8.count - 1] = UInt8(ascii: " ")  // the closing brace
        expect(broken, .modelFormat, "JSON header", "unterminated object")
    }

    func testTruncatedFile() {
        expect(Array(good.dropLast(4)), .modelFormat, "data")
    }

    // MARK: Tensors

    func testOffsetsNotContiguous() {
        // Shift the last tensor's range by 4 bytes: a gap before it.
        let (name, e) = header.last!
        let (b, end) = offsets(e)
        var moved = e.objectValue!
        moved[moved.firstIndex { $0.0 == "data_offsets" }!].1 = .array([int(b + 4), int(end + 4)])
        expect(frame(replacing(name, with: .object(moved)), data + [0, 0, 0, 0]), .modelFormat, name, "not contiguous")
    }

    func testOffsetsPastEnd() {
        let (name, e) = header.last!
        let (b, _) = offsets(e)
        var moved = e.objectValue!
        moved[moved.firstIndex { $0.0 == "data_offsets" }!].1 = .array([int(b), int(data.count + 400)])
        expect(frame(replacing(name, with: .object(moved)), data), .modelFormat, name, "past the end")
    }

    func testByteSizeDisagreesWithShape() {
        let name = "generator.model.0.bias"
        var e = entry(name).objectValue!
        let shape = e.first { $0.0 == "shape" }!.1.arrayValue!
        e[e.firstIndex { $0.0 == "shape" }!].1 = .array([int(Int(shape[0].integerValue!) + 1)])
        expect(frame(replacing(name, with: .object(e)), data), .modelFormat, name, "needs")
    }

    func testUnknownDtype() {
        let name = "generator.model.0.bias"
        var e = entry(name).objectValue!
        e[e.firstIndex { $0.0 == "dtype" }!].1 = .string("F64")
        expect(frame(replacing(name, with: .object(e)), data), .modelFormat, name, "F64")
    }

    func testMissingTensor() {
        let name = "generator.model.5.weight"
        // Drop the entry and its bytes, shifting every later range.
        let (b, end) = offsets(entry(name))
        let size = end - b
        let h: [(String, JSONValue)] = header.compactMap { item in
            guard item.0 != name else { return nil }
            guard item.0 != "__metadata__" else { return item }
            var (x, y) = offsets(item.1)
            if x >= end { x -= size; y -= size }
            var o = item.1.objectValue!
            o[o.firstIndex { $0.0 == "data_offsets" }!].1 = .array([int(x), int(y)])
            return (item.0, .object(o))
        }
        expect(frame(h, Array(data[..<b] + data[end...])), .modelFormat, name, "missing")
    }

    func testExtraTensor() {
        let extra: (String, JSONValue) = ("generator.model.99.weight", .object([
            ("dtype", .string("F32")), ("shape", .array([int(1)])), ("data_offsets", .array([int(data.count), int(data.count + 4)])),
        ]))
        expect(frame(header + [extra], data + [0, 0, 0, 0]), .modelFormat, "generator.model.99.weight", "extra")
    }

    func testShapeDisagreesWithConfig() {
        // Same byte count, other shape: [in, out, 4, 4] -> [out, in, 4, 4].
        let name = "generator.model.2.weight"
        var e = entry(name).objectValue!
        let s = e.first { $0.0 == "shape" }!.1.arrayValue!
        e[e.firstIndex { $0.0 == "shape" }!].1 = .array([s[1], s[0], s[2], s[3]])
        expect(frame(replacing(name, with: .object(e)), data), .modelFormat, name, "config implies")
    }

    func testNonFiniteWeight() {
        let (b, _) = offsets(entry("voice_encoder.model.0.weight"))
        var bytes = data
        withUnsafeBytes(of: Float.nan) { for i in 0..<4 { bytes[b + i] = $0[i] } }
        expect(frame(header, bytes), .modelFormat, "voice_encoder.model.0.weight", "non-finite")
    }

    func testDuplicateTensorName() {
        expect(frame(header + [header.last!], data), .modelFormat, header.last!.0, "twice")
    }

    // MARK: Metadata and config

    func testMissingMetadata() {
        for key in ["avpgan.format", "avpgan.arch", "avpgan.config"] {
            expect(withMetadata { $0[key] = nil }, .modelFormat, key, "missing")
        }
    }

    func testFormatVersion() {
        expect(withMetadata { $0["avpgan.format"] = "one" }, .modelFormat, "avpgan.format", "not an integer")
        expect(withMetadata { $0["avpgan.format"] = "2" }, .unsupported, "newer")
    }

    func testUnknownArchitecture() {
        expect(withMetadata { $0["avpgan.arch"] = "stylegan" }, .modelFormat, "avpgan.arch", "stylegan")
    }

    func testArchitectureThatDisagreesWithTensors() {
        // The avpgan tensors under voice2face: the config's spectral_norm is then wrong.
        expect(withMetadata { $0["avpgan.arch"] = "voice2face" }, .modelFormat, "spectral_norm")
        // ... and avpgan-nocbam: the CBAM tensors are extra.
        expect(withMetadata { $0["avpgan.arch"] = "avpgan-nocbam" }, .modelFormat, "missing")
    }

    func testConfigNotJSON() {
        expect(withMetadata { $0["avpgan.config"] = "{\"networks\": [" }, .modelFormat, "avpgan.config", "not valid JSON")
        expect(withMetadata { $0["avpgan.config"] = "[1, 2]" }, .modelFormat, "avpgan.config", "not a JSON object")
    }

    func testConfigFieldMissingOrWrong() throws {
        for field in ["networks", "n_mels", "embed_dim", "voice_widths", "generator_widths", "image_size", "face_widths", "identities"] {
            expect(try withConfig { $0.removeAll { $0.0 == field } }, .modelFormat, field)
        }
        expect(try withConfig { c in c[c.firstIndex { $0.0 == "image_size" }!].1 = int(32) }, .modelFormat, "image_size")
        expect(try withConfig { c in c[c.firstIndex { $0.0 == "embed_dim" }!].1 = .string("16") }, .modelFormat, "embed_dim")
        expect(try withConfig { c in c[c.firstIndex { $0.0 == "embed_dim" }!].1 = int(17) }, .modelFormat, "config implies")
        expect(try withConfig { c in c[c.firstIndex { $0.0 == "spectral_norm" }!].1 = .string("maybe") }, .modelFormat, "spectral_norm")
        expect(try withConfig { c in c[c.firstIndex { $0.0 == "networks" }!].1 = .array([.string("generator")]) }, .modelFormat, "networks")
        expect(try withConfig { c in c[c.firstIndex { $0.0 == "pixels" }!].1 = .string("sepia") }, .modelFormat, "pixels")
    }
}
