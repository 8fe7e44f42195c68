@testable import AVPGANCore
import XCTest

/// SHA-256, PNG encoding with text chunks, PNG decoding.
final class ImageTests: XCTestCase {
    func testSHA256KnownVectors() {
        XCTAssertEqual(SHA256.hex([UInt8]()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(SHA256.hex([UInt8](repeating: 0x61, count: 1_000_000)),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        var split = SHA256()  // incremental updates across block boundaries
        split.update(Array("abcdbcdecdefdefgefghfghighijhijk".utf8))
        split.update(Array("ijkljklmklmnlmnomnopnopq".utf8))
        XCTAssertEqual(split.hexDigest(), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    func testPNGRoundTripWithText() throws {
        let (w, h) = (7, 5)
        let pixels = (0..<(w * h * 3)).map { UInt8(($0 * 37) % 256) }
        let text = [("Software", "libavpgan 0.1.0"), ("avpgan:notice", "Synthetic image — not a photograph"), ("Comment", "x=1")]
        let png = try pixels.withUnsafeBufferPointer { try PNGCodec.encodeRGB8($0.baseAddress!, width: w, height: h, text: text) }
        let again = try pixels.withUnsafeBufferPointer { try PNGCodec.encodeRGB8($0.baseAddress!, width: w, height: h, text: text) }
        XCTAssertEqual(png, again, "same inputs must give byte-identical PNGs")
        let decoded = try PNGCodec.decodeRGB8(png)
        XCTAssertEqual(decoded.width, w)
        XCTAssertEqual(decoded.height, h)
        XCTAssertEqual(decoded.pixels, pixels, "lossless round trip")
        let read = PNGText.read(png)
        XCTAssertEqual(read.map(\.0), text.map(\.0))
        XCTAssertEqual(read.map(\.1), text.map(\.1), "UTF-8 text survives")
        XCTAssertThrowsError(try pixels.withUnsafeBufferPointer {
            try PNGCodec.encodeRGB8($0.baseAddress!, width: w, height: h, text: [("", "empty keyword")])
        })
    }

    func testDecodeRefusesDamage() throws {
        let pixels = [UInt8](repeating: 128, count: 4 * 4 * 3)
        let png = try pixels.withUnsafeBufferPointer { try PNGCodec.encodeRGB8($0.baseAddress!, width: 4, height: 4) }
        for (what, bytes) in [("empty", [UInt8]()), ("text", Array("hello".utf8)), ("truncated", Array(png.prefix(png.count / 2)))] {
            XCTAssertThrowsError(try PNGCodec.decodeRGB8(bytes), what) { e in
                XCTAssertEqual((e as? AVPGANError)?.kind, .invalidArgument, "\(what): \(e)")
            }
        }
        // A header claiming 100000 x 100000 pixels is refused before allocation.
        var huge = png
        for (offset, v) in [(16, UInt32(100_000)), (20, UInt32(100_000))] {
            for k in 0..<4 { huge[offset + k] = UInt8(truncatingIfNeeded: v >> (24 - 8 * UInt32(k))) }
        }
        let crc = CRC32.checksum(Array(huge[12..<29]))
        for k in 0..<4 { huge[29 + k] = UInt8(truncatingIfNeeded: crc >> (24 - 8 * UInt32(k))) }
        XCTAssertThrowsError(try PNGCodec.decodeRGB8(huge)) { e in
            XCTAssertTrue((e as? AVPGANError)?.message.contains("limit") == true, "\(e)")
        }
    }
}

final class ModelDigestTests: XCTestCase {
    func testModelDigestIsTheFileSHA256() throws {
        let path = "\(Fixtures.golden("voice2face"))/model.safetensors"
        let bytes = try FileIO.read(path)
        let model = try Model(path: path)
        XCTAssertEqual(model.sha256, SHA256.hex(bytes))
        XCTAssertEqual(model.sha256.count, 64)
        XCTAssertEqual(model.sha256, model.sha256, "cached value stable")
    }
}

import CTurboJPEG

final class JPEGTests: XCTestCase {
    /// JPEG bytes of an RGB8 image, encoded here with TurboJPEG (quality 95, 4:4:4).
    func encode(_ pixels: [UInt8], width: Int, height: Int) throws -> [UInt8] {
        let handle = try XCTUnwrap(tjInitCompress())
        defer { tjDestroy(handle) }
        var out: UnsafeMutablePointer<UInt8>?
        var size: UInt = 0
        let status = pixels.withUnsafeBufferPointer {
            tjCompress2(handle, $0.baseAddress, Int32(width), Int32(width * 3), Int32(height), Int32(TJPF_RGB.rawValue),
                        &out, &size, Int32(TJSAMP_444.rawValue), 95, 0)
        }
        XCTAssertEqual(status, 0)
        defer { tjFree(out) }
        return Array(UnsafeBufferPointer(start: out, count: Int(size)))
    }

    func testJPEGFacesDecodeAndLoad() throws {
        let face = SyntheticFace.draw(SyntheticSpeaker.make(count: 1, seed: 2)[0], index: 0)
        let jpeg = try encode(face, width: 64, height: 64)
        let (pixels, w, h) = try JPEGCodec.decodeRGB8(jpeg)
        XCTAssertEqual(w, 64); XCTAssertEqual(h, 64)
        let err = zip(pixels, face).map { abs(Int($0) - Int($1)) }.reduce(0, +) / pixels.count
        XCTAssertLessThan(err, 4, "mean absolute error \(err) after JPEG quality 95")
        let path = "/tmp/avpgan-face-\(getpid()).jpg"
        try FileIO.write(jpeg, to: path)
        defer { unlink(path) }
        let loaded = try FaceImage.load(path)
        XCTAssertEqual(loaded.count, 3 * 64 * 64)
        for (what, bad) in [("truncated", Array(jpeg.prefix(jpeg.count / 3))), ("garbage", [UInt8](repeating: 0xFF, count: 100))] {
            XCTAssertThrowsError(try JPEGCodec.decodeRGB8(bad), what)
        }
    }
}
