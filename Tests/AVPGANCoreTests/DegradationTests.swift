@testable import AVPGANCore
import XCTest

/// GFPGAN's training degradation (`FaceDegradation`): each stage against basicsr and OpenCV
/// (Tests/Fixtures/degradation, made by tools/fixtures/make_degradation_fixtures.py), and the
/// pipeline's contract: deterministic for a seed at any thread count, shapes and levels kept,
/// each stage switchable without changing the others' draws.
final class DegradationTests: XCTestCase {
    /// Storages made by a test live until the test ends (the kernels take raw pointers, and an
    /// optimised build may end a local's lifetime at its last use in Swift).
    var kept: [FloatStorage] = []

    func buffer(_ count: Int) -> FloatStorage {
        let s = try! FloatStorage(count: count)
        kept.append(s)
        return s
    }

    override func tearDown() { try? Threads.set(0) }

    func stages() throws -> Fixtures.Arrays { try Fixtures.Arrays("\(Fixtures.root)/degradation/stages.safetensors") }

    func assertClose(_ actual: [Float], _ expected: [Float], _ tolerance: Float, _ what: String) {
        XCTAssertEqual(actual.count, expected.count, "\(what): \(actual.count) values, expected \(expected.count)")
        let (diff, at) = maxAbsDifference(actual, expected)
        XCTAssertLessThanOrEqual(diff, tolerance, "\(what): max |swift - reference| = \(diff) at \(at)")
    }

    func testKernelsMatchBasicsr() throws {
        let a = try stages()
        let iso = BlurKernel.gaussian(size: 21, sigmaX: 2.3, sigmaY: 2.3, theta: 0)
        let aniso = BlurKernel.gaussian(size: 41, sigmaX: 3.1, sigmaY: 0.7, theta: 0.6)
        assertClose(iso, try a.floats("kernel_iso"), 1e-7, "isotropic kernel")
        assertClose(aniso, try a.floats("kernel_aniso"), 1e-7, "anisotropic kernel")
        for (name, k) in [("isotropic", iso), ("anisotropic", aniso)] {
            XCTAssertEqual(k.reduce(0.0) { $0 + Double($1) }, 1, accuracy: 1e-5, "\(name) kernel does not sum to 1")
            XCTAssertEqual(k, Array(k.reversed()), "\(name) kernel is not symmetric about its centre")
        }
    }

    func testStagesMatchOpenCV() throws {
        let a = try stages(), image = try a.floats("image")
        let (h, w) = (a.shape("image")[1], a.shape("image")[2])
        for (name, size, sx, sy, theta) in [("iso", 21, 2.3, 2.3, 0.0), ("aniso", 41, 3.1, 0.7, 0.6)] {
            let kernel = BlurKernel.gaussian(size: size, sigmaX: sx, sigmaY: sy, theta: theta)
            var out = [Float](repeating: .nan, count: image.count)
            let scratch = buffer(ImageFilter.scratchCount(height: h, width: w, kernel: size))
            image.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer {
                    ImageFilter.filter(src.baseAddress!, channels: 3, height: h, width: w, kernel: kernel, size: size,
                                       into: $0.baseAddress!, scratch: scratch.pointer)
                }
            }
            assertClose(out, try a.floats("blur_\(name)"), 2e-6, "blur \(name) against cv2.filter2D")
        }
        let small = (h: FaceDegradation.floorDivide(h, 2.7), w: FaceDegradation.floorDivide(w, 2.7))
        XCTAssertEqual([small.h, small.w], Array(a.shape("down_2.7").dropFirst()), "shrunken size for 2.7")
        let down = try FaceDegradation.resized(image, height: h, width: w, to: small)
        assertClose(down, try a.floats("down_2.7"), 2e-6, "shrink by 2.7 against cv2.resize")
        assertClose(try FaceDegradation.resized(down, height: small.h, width: small.w, to: (h, w)), try a.floats("back_2.7"), 2e-6,
                    "enlarge back against cv2.resize")
        let grown = (h: FaceDegradation.floorDivide(h, 0.8), w: FaceDegradation.floorDivide(w, 0.8))
        XCTAssertEqual([grown.h, grown.w], Array(a.shape("up_0.8").dropFirst()), "size for 0.8 (Python's 36 // 0.8 = 44)")
        assertClose(try FaceDegradation.resized(image, height: h, width: w, to: grown), try a.floats("up_0.8"), 2e-6,
                    "enlarge by 1 / 0.8 against cv2.resize")
    }

    /// The system's libjpeg-turbo (2.1.5 here) and the one in OpenCV's wheel share the quality
    /// scaling and 4:2:0, not every rounding of the encoder (the decoders agree exactly): at
    /// quality 75 the pictures differ by 1.7 levels on average and lose the same amount to
    /// the input (25.96 dB both, measured). Checked: the same loss within 0.1 dB, and close
    /// pictures.
    func testJPEGDegradesLikeOpenCV() throws {
        let a = try stages(), image = try a.floats("image"), expected = try a.floats("jpeg_75")
        let (h, w) = (a.shape("image")[1], a.shape("image")[2]), plane = h * w
        var bytes = [UInt8](repeating: 0, count: image.count)
        for c in 0..<3 { for p in 0..<plane { bytes[p * 3 + c] = FaceDegradation.level(image[c * plane + p]) } }
        let decoded = try JPEGCodec.decodeRGB8(try JPEGCodec.encodeRGB8(bytes, width: w, height: h, quality: 75)).pixels
        var difference = 0.0, ours = 0.0, theirs = 0.0
        for c in 0..<3 {
            for p in 0..<plane {
                let input = Double(bytes[p * 3 + c]), mine = Double(decoded[p * 3 + c]), reference = Double(expected[c * plane + p]) * 255
                difference += abs(mine - reference)
                ours += (mine - input) * (mine - input)
                theirs += (reference - input) * (reference - input)
            }
        }
        let n = Double(image.count), mean = difference / n
        let psnrOurs = 10 * log10(255 * 255 / (ours / n)), psnrTheirs = 10 * log10(255 * 255 / (theirs / n))
        XCTAssertLessThanOrEqual(abs(psnrOurs - psnrTheirs), 0.1, "JPEG at quality 75 loses \(psnrOurs) dB here, \(psnrTheirs) dB in OpenCV")
        XCTAssertLessThanOrEqual(mean, 2.5, "JPEG at quality 75: mean |libavpgan - OpenCV| = \(mean) levels")
    }

    func face(_ side: Int) throws -> [Float] {
        let a = try stages(), image = try a.floats("image")
        return try FaceDegradation.resized(image, height: a.shape("image")[1], width: a.shape("image")[2], to: (side, side))
    }

    func testDeterministicForASeedAtAnyThreadCount() throws {
        let input = try face(64), d = FaceDegradation()
        try Threads.set(1)
        let one = try d.degrade(input, height: 64, width: 64, seed: 42)
        try Threads.set(3)
        let three = try d.degrade(input, height: 64, width: 64, seed: 42)
        XCTAssertEqual(one.map(\.bitPattern), three.map(\.bitPattern), "the degradation differs between 1 and 3 threads")
        XCTAssertEqual(one, try d.degrade(input, height: 64, width: 64, seed: 42), "the same seed gave different faces")
        XCTAssertNotEqual(one, try d.degrade(input, height: 64, width: 64, seed: 43), "seeds 42 and 43 gave the same face")
        XCTAssertEqual(one.count, input.count, "the degraded face has another size")
        XCTAssertTrue(one.allSatisfy { (0...1).contains($0) && ($0 * 255).rounded() == $0 * 255 },
                      "a degraded value is not an 8-bit level in [0, 1]")
    }

    func testDrawsStayInRangesAndReachSixtyFourPixels() {
        let d = FaceDegradation()
        var smallest = Int.max, largest = 0, isotropic = 0
        for seed in UInt64(0)..<400 {
            let draw = d.draw(seed: seed)
            XCTAssertTrue(d.blurSigma!.contains(draw.sigmaX) && d.blurSigma!.contains(draw.sigmaY), "sigma outside its range")
            XCTAssertTrue(d.downsample!.contains(draw.scale) && d.noiseSigma!.contains(draw.noiseSigma), "scale or noise outside its range")
            XCTAssertTrue((60...100).contains(draw.quality), "JPEG quality \(draw.quality) outside 60...100")
            if draw.isotropic { isotropic += 1; XCTAssertEqual(draw.sigmaX, draw.sigmaY) }
            let side = FaceDegradation.floorDivide(128, draw.scale)
            smallest = min(smallest, side)
            largest = max(largest, side)
        }
        XCTAssertTrue(smallest < 24 && largest > 150, "shrunken 128 px faces span \(smallest)...\(largest) px, not 16...160")
        XCTAssertTrue((150...250).contains(isotropic), "\(isotropic) of 400 kernels isotropic, expected about half")
    }

    func testEachStageCanBeSwitchedOff() throws {
        let input = try face(48), seed: UInt64 = 9
        var off = FaceDegradation()
        off.blurSigma = nil; off.downsample = nil; off.noiseSigma = nil; off.jpegQuality = nil
        XCTAssertEqual(try off.degrade(input, height: 48, width: 48, seed: seed), input.map { Float(FaceDegradation.level($0)) / 255 },
                       "with every stage off the face should only be rounded to 8-bit levels")
        let full = FaceDegradation(), draw = full.draw(seed: seed)
        for stage in 0..<4 {
            var d = full
            switch stage {
            case 0: d.blurSigma = nil
            case 1: d.downsample = nil
            case 2: d.noiseSigma = nil
            default: d.jpegQuality = nil
            }
            var expected = draw
            switch stage {  // the switched-off stage's own parameters read 0
            case 0: (expected.sigmaX, expected.sigmaY) = (0, 0)
            case 1: expected.scale = 0
            case 2: expected.noiseSigma = 0
            default: expected.quality = 1
            }
            XCTAssertEqual(d.draw(seed: seed), expected, "switching stage \(stage) off changed the other stages' draws")
            XCTAssertNotEqual(try d.degrade(input, height: 48, width: 48, seed: seed), try full.degrade(input, height: 48, width: 48, seed: seed),
                              "switching stage \(stage) off did not change the result")
        }
        var blurOnly = off
        blurOnly.blurSigma = full.blurSigma
        let kernel = BlurKernel.gaussian(size: 41, sigmaX: draw.sigmaX, sigmaY: draw.sigmaY, theta: draw.theta)
        var blurred = [Float](repeating: 0, count: input.count)
        let scratch = buffer(ImageFilter.scratchCount(height: 48, width: 48, kernel: 41))
        input.withUnsafeBufferPointer { src in
            blurred.withUnsafeMutableBufferPointer {
                ImageFilter.filter(src.baseAddress!, channels: 3, height: 48, width: 48, kernel: kernel, size: 41, into: $0.baseAddress!,
                                   scratch: scratch.pointer)
            }
        }
        XCTAssertEqual(try blurOnly.degrade(input, height: 48, width: 48, seed: seed), blurred.map { Float(FaceDegradation.level($0)) / 255 },
                       "blur alone is not the drawn kernel's filter")
    }

    func testBadSettingsAndInputsAreRefused() {
        var d = FaceDegradation()
        d.kernelSize = 40
        XCTAssertThrowsError(try d.degrade([Float](repeating: 0, count: 3 * 16), height: 4, width: 4, seed: 0), "an even kernel size")
        d = FaceDegradation()
        d.jpegQuality = 0...100
        XCTAssertThrowsError(try d.validate(), "JPEG quality 0")
        XCTAssertThrowsError(try FaceDegradation().degrade([0, 1], height: 4, width: 4, seed: 0), "a face of the wrong size")
    }

    func testTextRoundTripsAndParsingNamesWhatIsWrong() throws {
        var d = FaceDegradation()
        XCTAssertEqual(try FaceDegradation(parsing: d.text), d, "GFPGAN's defaults do not survive text: \(d.text)")
        XCTAssertEqual(try FaceDegradation(parsing: ""), d, "empty text is not GFPGAN's degradation")
        d = try FaceDegradation(parsing: "blur=off, downsample=2,noise=0:5.5,jpeg=75:95,kernel=21,isotropic=1")
        XCTAssertNil(d.blurSigma)
        XCTAssertEqual(d.downsample, 2...2)
        XCTAssertEqual(d.noiseSigma, 0...5.5)
        XCTAssertEqual([d.kernelSize], [21])
        XCTAssertEqual(try FaceDegradation(parsing: d.text), d, "\(d.text) does not parse back to itself")
        for (text, fragment) in [("sharpen=1:2", "NAME one of"), ("blur=2:1", "2.0 is above 1.0"), ("noise=a:b", "not LO:HI"),
                                 ("jpeg=0:100", "JPEG quality"), ("kernel=4", "must be odd"), ("downsample", "NAME=VALUE")] {
            XCTAssertThrowsError(try FaceDegradation(parsing: text), text) { error in
                XCTAssertTrue("\(error)".contains(fragment), "'\(text)': \(error) does not say '\(fragment)'")
            }
        }
    }
}
