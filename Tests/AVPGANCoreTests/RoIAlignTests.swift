@testable import AVPGANCore
import XCTest

/// `RoIAlign` against torchvision's roi_align under autograd
/// (Tests/Fixtures/enhancer-training/roi-align.safetensors, made by
/// tools/make_enhancer_training_fixtures.py): crops and the input's gradient within 1e-5.
final class RoIAlignTests: XCTestCase {
    func testMatchesTorchvision() throws {
        let a = try Fixtures.Arrays("\(Fixtures.root)/enhancer-training/roi-align.safetensors")
        let input = try a.floats("input"), shape = a.shape("input"), raw = try a.floats("boxes")
        let boxes = stride(from: 0, to: raw.count, by: 5).map {
            RoIAlign.Box(image: Int(raw[$0]), x1: raw[$0 + 1], y1: raw[$0 + 2], x2: raw[$0 + 3], y2: raw[$0 + 4])
        }
        let expected = try a.floats("output"), dy = try a.floats("grad_output")
        var out = [Float](repeating: .nan, count: expected.count), dx = [Float](repeating: 0, count: input.count)
        try input.withUnsafeBufferPointer { x in
            try out.withUnsafeMutableBufferPointer {
                try RoIAlign.forward(x.baseAddress!, batch: shape[0], channels: shape[1], height: shape[2], width: shape[3], boxes: boxes,
                                     output: 6, into: $0.baseAddress!)
            }
        }
        try dy.withUnsafeBufferPointer { g in
            try dx.withUnsafeMutableBufferPointer {
                try RoIAlign.backward(g.baseAddress!, batch: shape[0], channels: shape[1], height: shape[2], width: shape[3], boxes: boxes,
                                      output: 6, into: $0.baseAddress!)
            }
        }
        for (name, ours, reference) in [("crops", out, expected), ("d(input)", dx, try a.floats("grad.input"))] {
            let (diff, at) = maxAbsDifference(ours, reference)
            XCTAssertLessThanOrEqual(diff, 1e-5 * reference.map(abs).max()!, "RoI align \(name): max |swift - torch| = \(diff) at \(at)")
        }
        var bad = boxes
        bad[0].image = 2
        XCTAssertThrowsError(try input.withUnsafeBufferPointer { x in
            try out.withUnsafeMutableBufferPointer {
                try RoIAlign.forward(x.baseAddress!, batch: 2, channels: 3, height: 20, width: 24, boxes: bad, output: 6, into: $0.baseAddress!)
            }
        }, "a box of an image outside the batch")
    }
}
