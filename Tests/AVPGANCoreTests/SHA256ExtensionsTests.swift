@testable import AVPGANCore
import XCTest

/// The SHA extensions' compression (`Sources/CKernels/sha256_ni.c`) against the Swift one, on
/// lengths around the block size and on updates that split blocks.
final class SHA256ExtensionsTests: XCTestCase {
    func testExtensionsMatchTheSwiftCompression() throws {
        try XCTSkipUnless(SHA256.shaExtensionsAvailable, "this CPU has no SHA extensions")
        var bytes = [UInt8](repeating: 0, count: 5000)
        var s: UInt32 = 12345
        for i in bytes.indices {
            s = s &* 1_103_515_245 &+ 12345
            bytes[i] = UInt8(truncatingIfNeeded: s >> 16)
        }
        for count in [0, 1, 55, 56, 63, 64, 65, 127, 128, 129, 1000, 4999, 5000] {
            var fast = SHA256(), swift = SHA256()
            swift.usesSHAExtensions = false
            XCTAssertTrue(fast.usesSHAExtensions)
            // Uneven pieces: a pending partial block, then whole blocks straight from the input.
            for piece in stride(from: 0, to: count, by: 77) {
                let part = bytes[piece..<min(piece + 77, count)]
                fast.update(part)
                swift.update(part)
            }
            XCTAssertEqual(fast.hexDigest(), swift.hexDigest(), "\(count) bytes")
            // One update: all whole blocks in one call of the extensions.
            var swiftWhole = SHA256()
            swiftWhole.usesSHAExtensions = false
            swiftWhole.update(bytes[0..<count])
            XCTAssertEqual(SHA256.hex(bytes[0..<count]), swiftWhole.hexDigest(), "\(count) bytes in one update")
        }
    }
}
