@testable import AVPGANCore
import XCTest

/// `EnhancerFaceSet`: the folder's faces, their landmarks, the split, and every bad folder
/// refused with a message naming the cause.
final class EnhancerFaceSetTests: XCTestCase {
    var root = ""

    override func setUpWithError() throws { root = Fixtures.temporaryDirectory("faceset") }
    override func tearDown() { Fixtures.removeDirectory(root) }

    /// Writes procedural faces of `size` px as `root/<folder>/<k>.png` (`count` per folder),
    /// the last of the first folder as JPEG when `jpeg`; returns the relative paths, sorted.
    @discardableResult
    static func writeFaces(_ root: String, folders: [String], count: Int, size: Int, jpeg: Bool = false) throws -> [String] {
        let speakers = SyntheticSpeaker.make(count: folders.count + 1, seed: 11)
        var paths: [String] = []
        for (f, folder) in folders.enumerated() {
            var path = root
            for part in folder.split(separator: "/") {
                path += "/\(part)"
                try FileIO.makeDirectory(path)
            }
            for k in 0..<count {
                let rgb = try SyntheticFace.draw(speakers[f], index: k, size: size)
                let asJPEG = jpeg && f == 0 && k == count - 1
                let bytes = asJPEG ? try JPEGCodec.encodeRGB8(rgb, width: size, height: size, quality: 95)
                                   : try rgb.withUnsafeBufferPointer { try PNGCodec.encodeRGB8($0.baseAddress!, width: size, height: size) }
                let name = "\(folder)/\(k).\(asJPEG ? "jpg" : "png")"
                try FileIO.write(bytes, to: "\(root)/\(name)")
                paths.append(name)
            }
        }
        return paths.sorted()
    }

    /// Asserts that opening `folder` fails with a message holding every one of `words`.
    func assertRefused(_ folder: String, _ options: EnhancerFaceSet.Options = .init(), mentioning words: [String],
                       file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try EnhancerFaceSet(folder: folder, options: options), file: file, line: line) { error in
            let text = "\(error)"
            for word in words { XCTAssertTrue(text.contains(word), "the error does not mention '\(word)': \(text)", file: file, line: line) }
        }
    }

    func testReadsTheFacesRecursivelyInPathOrderAndSplitsThemBySeed() throws {
        let paths = try Self.writeFaces(root, folders: ["b", "a/deeper"], count: 5, size: 64, jpeg: true)
        let set = try EnhancerFaceSet(folder: root)
        XCTAssertEqual(set.paths, paths, "faces are every PNG and JPEG under the folder, ordered by path")
        XCTAssertEqual(try EnhancerFaceSet(folder: root + "//").paths, paths, "a folder given with a trailing slash")
        XCTAssertEqual(set.size, 64)
        XCTAssertFalse(set.hasLandmarksFile)
        XCTAssertEqual(set.components(0), FacialComponents.template(size: 64), "without landmarks.json every face takes the template")
        XCTAssertEqual((set.training + set.validation).sorted(), Array(0..<10), "the split is a partition of the faces")
        XCTAssertEqual(set.validation.count, 1, "5 % of 10 faces rounds to 0: at least one face is held out")
        let face = set.rgb8(3), planes = set.planes(3)
        XCTAssertEqual(planes[64 * 10 + 20], Float(face[3 * (10 * 64 + 20) + 1 - 1]) / 255, "planes are the RGB8 picture over 255")
        XCTAssertEqual(set.planes(3, mirrored: true)[64 * 10 + 43], planes[64 * 10 + 20], "mirroring reverses each row")

        for (fraction, expected) in [(0.0, 1), (0.2, 2), (0.5, 5), (0.99, 9)] {
            var options = EnhancerFaceSet.Options()
            options.validationFraction = fraction
            let split = try EnhancerFaceSet(folder: root, options: options)
            XCTAssertEqual(split.validation.count, expected, "held-out count for the fraction \(fraction) of 10 faces")
            XCTAssertEqual(split.training.count, 10 - expected)
        }
        var options = EnhancerFaceSet.Options()
        options.validationFraction = 0.3
        let first = try EnhancerFaceSet(folder: root, options: options).validation
        XCTAssertEqual(try EnhancerFaceSet(folder: root, options: options).validation, first, "the same seed gives the same split")
        let others = try (2...6).map { seed -> [Int] in
            options.seed = UInt64(seed)
            return try EnhancerFaceSet(folder: root, options: options).validation
        }
        XCTAssertTrue(others.contains { $0 != first }, "five other seeds all gave the split \(first)")
    }

    func testRefusesBadFoldersByName() throws {
        assertRefused("\(root)/missing", mentioning: ["missing", "does not exist"])
        assertRefused(root, mentioning: ["0 PNG or JPEG faces", "at least 2"])
        try Self.writeFaces(root, folders: ["a"], count: 1, size: 64)
        assertRefused(root, mentioning: ["1 PNG or JPEG face;", "at least 2"])
        try Self.writeFaces(root, folders: ["b"], count: 2, size: 128)
        assertRefused(root, mentioning: ["b/0.png", "128 x 128", "64 x 64", "a/0.png"])
        assertRefused(root, .init(size: 128), mentioning: ["a/0.png", "64 x 64", "must all be 128 x 128"])
        assertRefused(root, .init(size: 100), mentioning: ["100", "not one of"])
        var options = EnhancerFaceSet.Options(size: 128)
        options.validationFraction = 1
        assertRefused(root, options, mentioning: ["validation fraction 1.0"])
        options.validationFraction = 0.05
        options.maxBytes = 90_000
        Fixtures.removeDirectory(root)
        root = Fixtures.temporaryDirectory("faceset")
        try Self.writeFaces(root, folders: ["b"], count: 2, size: 128)
        assertRefused(root, options, mentioning: ["2 faces of 128 px need 98304 bytes", "limit of 90000"])
        XCTAssertEqual(try EnhancerFaceSet(folder: root, options: .init(size: 128)).count, 2)

        let wide = [UInt8](repeating: 90, count: 3 * 130 * 128)
        try FileIO.write(try wide.withUnsafeBufferPointer { try PNGCodec.encodeRGB8($0.baseAddress!, width: 130, height: 128) }, to: "\(root)/b/wide.png")
        assertRefused(root, mentioning: ["b/wide.png", "130 x 128", "square"])
        try FileIO.write(Array("not a picture".utf8), to: "\(root)/b/wide.png")
        assertRefused(root, mentioning: ["b/wide.png"])
        var png = try FileIO.read("\(root)/b/0.png")
        png.removeLast(png.count / 2)
        try FileIO.write(png, to: "\(root)/b/wide.png")
        assertRefused(root, mentioning: ["b/wide.png"])
        try FileIO.write([0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3], to: "\(root)/b/wide.png")
        assertRefused(root, mentioning: ["b/wide.png"])
    }
}
