@testable import AVPGANCore
import XCTest

/// `EnhancerValidation`: the held-out measure of an enhancer against bicubic upscaling, on
/// the 64 px test enhancer and procedural faces.
final class EnhancerValidationTests: XCTestCase {
    var root = ""

    override func setUpWithError() throws { root = Fixtures.temporaryDirectory("validation") }
    override func tearDown() { Fixtures.removeDirectory(root) }

    func testMeasuresTheHeldOutFacesAgainstBicubic() throws {
        try EnhancerFaceSetTests.writeFaces(root, folders: ["a"], count: 6, size: 64)
        var setOptions = EnhancerFaceSet.Options()
        setOptions.validationFraction = 0.5
        let faces = try EnhancerFaceSet(folder: root, options: setOptions)
        let enhancer = try Enhancer(path: "\(Fixtures.root)/enhancer/enhancer-s64-full-mlp.safetensors")
        var options = EnhancerValidation.Options()
        options.lowSize = 16
        options.sheetRows = 2
        let report = try EnhancerValidation.run(enhancer, faces: faces, options: options)
        XCTAssertEqual(report.faces, 3)
        for (name, value) in [("enhancer PSNR", report.enhancerPSNR), ("bicubic PSNR", report.bicubicPSNR)] {
            XCTAssertTrue(value.isFinite && value > 5 && value < 60, "\(name) \(value) dB is not a plausible PSNR")
        }
        for (name, value) in [("enhancer SSIM", report.enhancerSSIM), ("bicubic SSIM", report.bicubicSSIM)] {
            XCTAssertTrue(value > -1 && value < 1, "\(name) \(value) is outside (-1, 1)")
        }
        XCTAssertEqual(report.gain, report.enhancerPSNR - report.bicubicPSNR)
        let again = try EnhancerValidation.run(enhancer, faces: faces, options: options)
        XCTAssertEqual(again.enhancerPSNR, report.enhancerPSNR, "the measure is not deterministic")
        XCTAssertEqual(again.sheet, report.sheet, "the sample sheet is not deterministic")
        let sheet = try PNGCodec.decodeRGB8(report.sheet)
        XCTAssertEqual([sheet.width, sheet.height], [3 * 64 + 4 * 2, 2 * 64 + 3 * 2], "the sheet is not 2 rows of input | output | truth")

        // More pixels in, closer out: the baseline gains from a 32 px input, and a 64 px input
        // (no shrinking) comes back unchanged from bicubic "enlarging" to the same size.
        options.lowSize = 32
        let sharper = try EnhancerValidation.run(enhancer, faces: faces, options: options)
        XCTAssertGreaterThan(sharper.bicubicPSNR, report.bicubicPSNR + 1, "bicubic from 32 px is not better than from 16 px")
        options.lowSize = 64
        let same = try EnhancerValidation.run(enhancer, faces: faces, options: options)
        XCTAssertEqual(same.bicubicPSNR, .infinity, "bicubic at the same size changed the face")
        XCTAssertEqual(same.bicubicSSIM, 1, accuracy: 1e-12)

        // A degradation before shrinking changes the inputs, deterministically.
        options.lowSize = 16
        options.degradation = FaceDegradation()
        options.degradation!.kernelSize = 21
        let degraded = try EnhancerValidation.run(enhancer, faces: faces, options: options)
        XCTAssertNotEqual(degraded.bicubicPSNR, report.bicubicPSNR)
        XCTAssertEqual(try EnhancerValidation.run(enhancer, faces: faces, options: options).bicubicPSNR, degraded.bicubicPSNR)
        options.sheetRows = 0
        XCTAssertTrue(try EnhancerValidation.run(enhancer, faces: faces, options: options).sheet.isEmpty)
    }

    func testRefusesFacesOfAnotherSizeAndBadOptions() throws {
        try EnhancerFaceSetTests.writeFaces(root, folders: ["a"], count: 2, size: 128)
        let enhancer = try Enhancer(path: "\(Fixtures.root)/enhancer/enhancer-s64-full-mlp.safetensors")
        XCTAssertThrowsError(try EnhancerValidation.run(enhancer, faces: try EnhancerFaceSet(folder: root))) { error in
            XCTAssertTrue("\(error)".contains("128 px") && "\(error)".contains("64 px"), "the error does not name both sizes: \(error)")
        }
        Fixtures.removeDirectory(root)
        root = Fixtures.temporaryDirectory("validation")
        try EnhancerFaceSetTests.writeFaces(root, folders: ["a"], count: 2, size: 64)
        var options = EnhancerValidation.Options()
        options.lowSize = 65
        XCTAssertThrowsError(try EnhancerValidation.run(enhancer, faces: try EnhancerFaceSet(folder: root), options: options)) { error in
            XCTAssertTrue("\(error)".contains("65"), "the error does not name the size: \(error)")
        }
    }
}
