@testable import AVPGANCore
import XCTest

/// PSNR, SSIM and bicubic resizing against basicsr, scikit-image and torch
/// (Tests/Fixtures/image-quality, made by tools/fixtures/make_image_quality_fixtures.py).
final class ImageQualityTests: XCTestCase {
    func fixture() throws -> Fixtures.Arrays { try Fixtures.Arrays("\(Fixtures.root)/image-quality/quality.safetensors") }

    func testPSNRAndSSIMMatchBasicsr() throws {
        let a = try fixture(), truth = try a.floats("truth"), test = try a.floats("test")
        let (h, w) = (a.shape("truth")[1], a.shape("truth")[2])
        let cases: [(String, Double, Double)] = [
            ("psnr_rgb", try ImageQuality.psnr(truth, test, height: h, width: w, channels: .rgb), 1e-4),
            ("psnr_y", try ImageQuality.psnr(truth, test, height: h, width: w, channels: .luma), 1e-4),
            ("ssim_rgb", try ImageQuality.ssim(truth, test, height: h, width: w, channels: .rgb), 1e-6),
            ("ssim_y", try ImageQuality.ssim(truth, test, height: h, width: w, channels: .luma), 1e-6),
            ("ssim_rgb_skimage", try ImageQuality.ssim(truth, test, height: h, width: w, channels: .rgb), 1e-6),
        ]
        for (name, value, tolerance) in cases {
            let expected = Double(try a.floats(name)[0])
            XCTAssertEqual(value, expected, accuracy: tolerance * max(1, abs(expected)), "\(name): libavpgan \(value), reference \(expected)")
        }
    }

    func testMeasuresOfIdenticalAndBadInputs() throws {
        let a = try fixture(), truth = try a.floats("truth")
        let (h, w) = (a.shape("truth")[1], a.shape("truth")[2])
        XCTAssertEqual(try ImageQuality.psnr(truth, truth, height: h, width: w), .infinity, "PSNR of a picture with itself")
        XCTAssertEqual(try ImageQuality.ssim(truth, truth, height: h, width: w), 1, accuracy: 1e-12, "SSIM of a picture with itself")
        XCTAssertThrowsError(try ImageQuality.psnr(truth, [0], height: h, width: w), "pictures of different sizes")
        XCTAssertThrowsError(try ImageQuality.ssim([Float](repeating: 0, count: 300), [Float](repeating: 0, count: 300), height: 10, width: 10),
                             "SSIM of a picture smaller than its window")
    }

    func testBicubicMatchesTorch() throws {
        let a = try fixture(), small = try a.floats("small")
        let (h, w) = (a.shape("small")[1], a.shape("small")[2])
        for name in ["bicubic_x2", "bicubic_to_64"] {
            let shape = a.shape(name)
            let out = try BicubicResize.resize(small, channels: 3, height: h, width: w, outHeight: shape[1], outWidth: shape[2])
            let (diff, at) = maxAbsDifference(out, try a.floats(name))
            XCTAssertLessThanOrEqual(diff, 1e-5, "\(name): max |libavpgan - torch| = \(diff) at \(at)")
        }
        XCTAssertThrowsError(try BicubicResize.resize(small, channels: 3, height: h, width: w + 1, outHeight: 4, outWidth: 4),
                             "a picture of the wrong size")
    }
}
