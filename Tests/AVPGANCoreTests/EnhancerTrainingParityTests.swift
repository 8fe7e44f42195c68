@testable import AVPGANCore
import XCTest

/// The enhancer's training blocks against PyTorch autograd on upstream gfpgan's modules
/// (Tests/Fixtures/enhancer-training, made by tools/make_enhancer_training_fixtures.py): the
/// forward output and every gradient within 1e-4 of the largest reference value.
final class EnhancerTrainingParityTests: XCTestCase {
    static let tolerance: Float = 1e-4

    func arrays(_ name: String) throws -> Fixtures.Arrays {
        try Fixtures.Arrays("\(Fixtures.root)/enhancer-training/\(name).safetensors")
    }

    func storage(_ a: Fixtures.Arrays, _ name: String) throws -> FloatStorage { try FloatStorage(try a.floats(name)) }

    /// Fails unless `actual` is within `tolerance` of `expected`, relative to its largest value.
    func assertClose(_ actual: [Float], _ expected: [Float], _ what: String) {
        XCTAssertEqual(actual.count, expected.count, "\(what): \(actual.count) values, expected \(expected.count)")
        let scale = max(expected.map(abs).max() ?? 0, 1e-30)
        let (diff, at) = maxAbsDifference(actual, expected)
        XCTAssertLessThanOrEqual(diff, Self.tolerance * scale,
                                 "\(what): max |swift - torch| = \(diff) at \(at), reference scale \(scale)")
    }

    func modulatedConv(_ a: Fixtures.Arrays, demodulate: Bool) throws -> ModulatedConv {
        let shape = a.shape("modulated_conv.weight")  // [1, O, C, k, k]
        return ModulatedConv(weight: try storage(a, "modulated_conv.weight"),
                             modulationWeight: try storage(a, "modulated_conv.modulation.weight"),
                             modulationBias: try storage(a, "modulated_conv.modulation.bias"),
                             outChannels: shape[1], inChannels: shape[2], kernel: shape[3],
                             styleDim: a.shape("modulated_conv.modulation.weight")[1], demodulate: demodulate)
    }

    /// Zeroed gradient buffers for a modulated convolution, and a reader of them.
    struct ConvGrads {
        let weight, modulationWeight, modulationBias: FloatStorage
        init(_ m: ModulatedConv) throws {
            weight = try FloatStorage(count: m.outChannels * m.depth)
            modulationWeight = try FloatStorage(count: m.inChannels * m.styleDim)
            modulationBias = try FloatStorage(count: m.inChannels)
        }
        var pointers: ModulatedConvGradients {
            ModulatedConvGradients(weight: weight.pointer, modulationWeight: modulationWeight.pointer, modulationBias: modulationBias.pointer)
        }
        func check(_ a: Fixtures.Arrays, _ test: EnhancerTrainingParityTests, _ name: String) throws {
            test.assertClose(weight.array, try a.floats("grad.modulated_conv.weight"), "\(name) dW")
            test.assertClose(modulationWeight.array, try a.floats("grad.modulated_conv.modulation.weight"), "\(name) dA")
            test.assertClose(modulationBias.array, try a.floats("grad.modulated_conv.modulation.bias"), "\(name) db")
        }
    }

    func testStyleConv() throws {
        for (name, upsample) in [("styleconv-up", true), ("styleconv", false)] {
            let a = try arrays(name)
            let m = try modulatedConv(a, demodulate: true)
            let noise = try storage(a, "noise")
            let layer = StyleConv(conv: m, upsample: upsample, noiseWeight: try a.floats("weight")[0], noise: noise,
                                  bias: try storage(a, "bias"))
            let side = a.shape("x")[2], out = layer.outputSide(side), threads = Threads.count
            let x = try storage(a, "x"), style = try storage(a, "style")
            let scratch = try FloatStorage(count: layer.trainingScratchCount(side: side, threads: threads))
            let y = try FloatStorage(count: m.outChannels * out * out)
            layer.forward(input: x.pointer, side: side, style: style.pointer, noise: noise.pointer, into: y.pointer,
                          threads: threads, scratch: scratch.pointer)
            assertClose(y.array, try a.floats("output"), "\(name) forward")
            let dy = try storage(a, "grad_output"), dx = try FloatStorage(count: x.count), dstyle = try FloatStorage(count: style.count)
            let grads = try ConvGrads(m), dNoise = try FloatStorage(count: 1), dBias = try FloatStorage(count: m.outChannels)
            layer.backward(input: x.pointer, side: side, style: style.pointer, noise: noise.pointer, output: y.pointer,
                           gradOutput: dy.pointer, gradInput: dx.pointer,
                           gradients: StyleConvGradients(conv: grads.pointers, noiseWeight: dNoise.pointer, bias: dBias.pointer),
                           gradStyle: dstyle.pointer, threads: threads, scratch: scratch.pointer)
            assertClose(dx.array, try a.floats("grad.x"), "\(name) dX")
            assertClose(dstyle.array, try a.floats("grad.style"), "\(name) dstyle")
            assertClose(dNoise.array, try a.floats("grad.weight"), "\(name) d(noise weight)")
            assertClose(dBias.array, try a.floats("grad.bias"), "\(name) dbias")
            try grads.check(a, self, name)
        }
    }

    func testToRGB() throws {
        for (name, hasSkip) in [("torgb-skip", true), ("torgb-first", false)] {
            let a = try arrays(name)
            let m = try modulatedConv(a, demodulate: false)
            let layer = ToRGB(conv: m, bias: try storage(a, "bias"))
            let side = a.shape("x")[2], threads = Threads.count
            let x = try storage(a, "x"), style = try storage(a, "style")
            let skip = hasSkip ? try storage(a, "skip") : nil
            let scratch = try FloatStorage(count: layer.trainingScratchCount(side: side, threads: threads))
            let y = try FloatStorage(count: 3 * side * side)
            layer.forward(input: x.pointer, side: side, style: style.pointer, skip: skip?.pointer, into: y.pointer,
                          threads: threads, scratch: scratch.pointer)
            assertClose(y.array, try a.floats("output"), "\(name) forward")
            let dy = try storage(a, "grad_output"), dx = try FloatStorage(count: x.count), dstyle = try FloatStorage(count: style.count)
            let dSkip = try FloatStorage(count: 3 * side * side / 4)
            let grads = try ConvGrads(m), dBias = try FloatStorage(count: 3)
            layer.backward(input: x.pointer, side: side, style: style.pointer, gradOutput: dy.pointer, gradInput: dx.pointer,
                           gradSkip: hasSkip ? dSkip.pointer : nil, gradients: ToRGBGradients(conv: grads.pointers, bias: dBias.pointer),
                           gradStyle: dstyle.pointer, threads: threads, scratch: scratch.pointer)
            assertClose(dx.array, try a.floats("grad.x"), "\(name) dX")
            assertClose(dstyle.array, try a.floats("grad.style"), "\(name) dstyle")
            assertClose(dBias.array, try a.floats("grad.bias"), "\(name) dbias")
            if hasSkip { assertClose(dSkip.array, try a.floats("grad.skip"), "\(name) dskip") }
            try grads.check(a, self, name)
        }
    }

    func testBilinear() throws {
        for (name, up) in [("bilinear-up", true), ("bilinear-down", false)] {
            let a = try arrays(name)
            let shape = a.shape("x"), (c, h, w) = (shape[1], shape[2], shape[3])
            let x = try storage(a, "x"), threads = Threads.count
            let outCount = up ? 4 * c * h * w : c * h * w / 4
            let y = try FloatStorage(count: outCount)
            let scratch = try FloatStorage(count: max(4 * threads * w, Bilinear.backwardScratchCount(width: w, threads: threads)))
            Bilinear.resize(x.pointer, channels: c, height: h, width: w, up: up, threads: threads, into: y.pointer, scratch: scratch.pointer)
            assertClose(y.array, try a.floats("output"), "\(name) forward")
            let dy = try storage(a, "grad_output"), dx = try FloatStorage(count: x.count)
            Bilinear.backward(dy.pointer, channels: c, height: h, width: w, up: up, threads: threads, into: dx.pointer,
                              scratch: scratch.pointer)
            assertClose(dx.array, try a.floats("grad.x"), "\(name) dX")
        }
    }

    func testCSSFT() throws {
        for name in ["sft-half", "sft-full"] {
            let a = try arrays(name)
            let shape = a.shape("x"), channels = shape[1], plane = shape[2] * shape[3]
            let first = channels - a.shape("scale")[1]
            let x = try storage(a, "x"), scale = try storage(a, "scale"), shift = try storage(a, "shift")
            let y = try FloatStorage(count: x.count)
            CSSFT.forward(x.pointer, channels: channels, first: first, plane: plane, scale: scale.pointer, shift: shift.pointer,
                          into: y.pointer)
            assertClose(y.array, try a.floats("output"), "\(name) forward")
            let dy = try storage(a, "grad_output"), dx = try FloatStorage(count: x.count)
            let dScale = try FloatStorage(count: scale.count), dShift = try FloatStorage(count: shift.count)
            CSSFT.backward(input: x.pointer, channels: channels, first: first, plane: plane, scale: scale.pointer,
                           gradOutput: dy.pointer, gradInput: dx.pointer, gradScale: dScale.pointer, gradShift: dShift.pointer)
            assertClose(dx.array, try a.floats("grad.x"), "\(name) dX")
            assertClose(dScale.array, try a.floats("grad.scale"), "\(name) dscale")
            assertClose(dShift.array, try a.floats("grad.shift"), "\(name) dshift")
        }
    }
}
