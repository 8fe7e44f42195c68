@testable import AVPGANCore
import XCTest

/// GFPGAN's facial-component crops (boxes from landmarks, torchvision's roi_align) and their
/// backward against PyTorch autograd (Tests/Fixtures/enhancer-losses/components.safetensors).
final class EnhancerLossComponentTests: XCTestCase {
    func components(_ landmarks: [Float], face: Int) -> FacialComponents {
        func c(_ part: Int) -> FacialComponents.Component {
            let o = (face * 3 + part) * 3
            return .init(centerX: landmarks[o], centerY: landmarks[o + 1], halfLength: landmarks[o + 2])
        }
        return FacialComponents(leftEye: c(0), rightEye: c(1), mouth: c(2))
    }

    func testCropsAndTheirBackwardMatchTorchvisionRoIAlign() throws {
        let a = try EnhancerLossTests.fixture("components")
        let shape = a.shape("image"), image = try a.floats("image"), landmarks = try a.floats("landmarks")
        let (batch, channels, size) = (shape[0], shape[1], shape[2])
        let faces = (0..<batch).map { components(landmarks, face: $0) }
        for (i, f) in faces.enumerated() { try f.validate(size: size, image: i) }
        XCTAssertTrue(FacialComponents.cropSizes(faceSize: size) == (10, 15))
        var eyes = [Float](repeating: .nan, count: a.shape("eyes").reduce(1, *))
        var mouths = [Float](repeating: .nan, count: a.shape("mouths").reduce(1, *))
        FacialComponents.crop(image, channels: channels, size: size, components: faces, eyes: &eyes, mouths: &mouths)
        EnhancerLossTests.assertClose(eyes, try a.floats("eyes"), "eye crops")
        EnhancerLossTests.assertClose(mouths, try a.floats("mouths"), "mouth crops")

        let saved = Threads.count
        defer { try? Threads.set(saved) }
        var results: [[Float]] = []
        for threads in [1, 2] {
            try Threads.set(threads)
            var grad = [Float](repeating: 0, count: image.count)
            FacialComponents.cropBackward(gradEyes: try a.floats("grad_eyes"), gradMouths: try a.floats("grad_mouths"),
                                          channels: channels, size: size, components: faces, into: &grad)
            results.append(grad)
        }
        EnhancerLossTests.assertClose(results[0], try a.floats("grad.image"), "d(crops)/dimage")
        XCTAssertEqual(results[0], results[1])
    }

    func testTemplateScalesWithTheFaceAndLandmarksOutsideAreRefused() throws {
        let t = FacialComponents.template(size: 128)
        XCTAssertEqual(t.leftEye, .init(centerX: 51, centerY: 60, halfLength: 8))
        XCTAssertEqual(t.mouth, .init(centerX: 64, centerY: 84, halfLength: 12))
        XCTAssertTrue(FacialComponents.cropSizes(faceSize: 512) == (80, 120))
        XCTAssertTrue(FacialComponents.cropSizes(faceSize: 256) == (40, 60))
        XCTAssertTrue(FacialComponents.cropSizes(faceSize: 128) == (20, 30))
        // The template's boxes lie inside the face at every size.
        for size in [64, 128, 256, 512] {
            for box in FacialComponents.eyeBoxes([.template(size: size)]) + FacialComponents.mouthBoxes([.template(size: size)]) {
                XCTAssertTrue(box.x1 >= 0 && box.y1 >= 0 && box.x2 <= Float(size - 1) && box.y2 <= Float(size - 1), "\(size): \(box)")
            }
        }
        var bad = t
        bad.mouth.centerY = 130
        XCTAssertThrowsError(try bad.validate(size: 128, image: 3)) { error in
            XCTAssertTrue("\(error)".contains("face 3: the mouth landmark"), "\(error)")
        }
        bad = t
        bad.rightEye.halfLength = .nan
        XCTAssertThrowsError(try bad.validate(size: 128, image: 0))
    }

    /// An NCHW array as a CNHW map (kept alive by `keep`).
    func map(_ a: [Float], _ shape: [Int], _ keep: inout [FloatStorage]) throws -> FeatureMap {
        let (n, c, plane) = (shape[0], shape[1], shape[2] * shape[3])
        let s = try FloatStorage(count: a.count)
        keep.append(s)
        for i in 0..<n { for j in 0..<c { for p in 0..<plane { s.pointer[(j * n + i) * plane + p] = a[(i * c + j) * plane + p] } } }
        return FeatureMap(data: s.pointer, channels: c, batch: n, height: shape[2], width: shape[3])
    }

    func testComponentStyleLossMatchesGFPGAN() throws {
        let a = try EnhancerLossTests.fixture("component-style")
        var keep: [FloatStorage] = []
        func features(_ prefix: String, _ k: Int) throws -> ComponentStyleLoss.Features {
            .init(first: try map(try a.floats("\(prefix).\(k).0"), a.shape("\(prefix).\(k).0"), &keep),
                  second: try map(try a.floats("\(prefix).\(k).1"), a.shape("\(prefix).\(k).1"), &keep))
        }
        let output = try (0..<3).map { try features("out", $0) }, truth = try (0..<3).map { try features("gt", $0) }
        let grads = try (0..<3).map { k -> ComponentStyleLoss.Features in
            let f = try features("out", k)
            f.first.data.update(repeating: 0, count: f.first.channels * f.first.row)
            f.second.data.update(repeating: 0, count: f.second.channels * f.second.row)
            return f
        }
        let loss = try ComponentStyleLoss.evaluate(output: output, truth: truth, weight: 200, gradOutput: grads, workspace: Workspace())
        EnhancerLossTests.assertClose([loss], try a.floats("loss"), "component style loss")
        for k in 0..<3 {
            for (s, m) in [grads[k].first, grads[k].second].enumerated() {
                let name = "grad.out.\(k).\(s)"
                let expected = try map(try a.floats(name), a.shape(name), &keep)
                EnhancerLossTests.assertClose(Array(UnsafeBufferPointer(start: m.data, count: m.channels * m.row)),
                                              Array(UnsafeBufferPointer(start: expected.data, count: m.channels * m.row)), name)
            }
        }
    }
}
