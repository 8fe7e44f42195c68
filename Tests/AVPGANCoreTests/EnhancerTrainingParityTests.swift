@testable import AVPGANCore
import XCTest

/// The enhancer's training blocks against PyTorch autograd on upstream gfpgan's modules
/// (Tests/Fixtures/enhancer-training, made by tools/fixtures/make_enhancer_training_fixtures.py): the
/// forward output and every gradient within 1e-4 of the largest reference value.
final class EnhancerTrainingParityTests: XCTestCase {
    /// Storages made by a test live until the test ends (the kernels take raw pointers, and an
    /// optimised build may end a local's lifetime at its last use in Swift).
    var kept: [FloatStorage] = []

    func buffer(_ count: Int) -> FloatStorage {
        let s = try! FloatStorage(count: count)
        kept.append(s)
        return s
    }

    static let tolerance: Float = 1e-4

    func arrays(_ name: String) throws -> Fixtures.Arrays {
        try Fixtures.Arrays("\(Fixtures.root)/enhancer-training/\(name).safetensors")
    }

    func storage(_ a: Fixtures.Arrays, _ name: String) throws -> FloatStorage {
        let s = try FloatStorage(try a.floats(name))
        kept.append(s)
        return s
    }

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
            let scratch = buffer(layer.trainingScratchCount(side: side, threads: threads))
            let y = buffer(m.outChannels * out * out)
            layer.forward(input: x.pointer, side: side, style: style.pointer, noise: noise.pointer, into: y.pointer,
                          threads: threads, scratch: scratch.pointer)
            assertClose(y.array, try a.floats("output"), "\(name) forward")
            let dy = try storage(a, "grad_output"), dx = buffer(x.count), dstyle = buffer(style.count)
            let grads = try ConvGrads(m), dNoise = buffer(1), dBias = buffer(m.outChannels)
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
            let scratch = buffer(layer.trainingScratchCount(side: side, threads: threads))
            let y = buffer(3 * side * side)
            layer.forward(input: x.pointer, side: side, style: style.pointer, skip: skip?.pointer, into: y.pointer,
                          threads: threads, scratch: scratch.pointer)
            assertClose(y.array, try a.floats("output"), "\(name) forward")
            let dy = try storage(a, "grad_output"), dx = buffer(x.count), dstyle = buffer(style.count)
            let dSkip = buffer(3 * side * side / 4)
            let grads = try ConvGrads(m), dBias = buffer(3)
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
            let y = buffer(outCount)
            let scratch = buffer(max(4 * threads * w, Bilinear.backwardScratchCount(width: w, threads: threads)))
            Bilinear.resize(x.pointer, channels: c, height: h, width: w, up: up, threads: threads, into: y.pointer, scratch: scratch.pointer)
            assertClose(y.array, try a.floats("output"), "\(name) forward")
            let dy = try storage(a, "grad_output"), dx = buffer(x.count)
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
            let y = buffer(x.count)
            CSSFT.forward(x.pointer, channels: channels, first: first, plane: plane, scale: scale.pointer, shift: shift.pointer,
                          into: y.pointer)
            assertClose(y.array, try a.floats("output"), "\(name) forward")
            let dy = try storage(a, "grad_output"), dx = buffer(x.count)
            let dScale = buffer(scale.count), dShift = buffer(shift.count)
            CSSFT.backward(input: x.pointer, channels: channels, first: first, plane: plane, scale: scale.pointer,
                           gradOutput: dy.pointer, gradInput: dx.pointer, gradScale: dScale.pointer, gradShift: dShift.pointer)
            assertClose(dx.array, try a.floats("grad.x"), "\(name) dX")
            assertClose(dScale.array, try a.floats("grad.scale"), "\(name) dscale")
            assertClose(dShift.array, try a.floats("grad.shift"), "\(name) dshift")
        }
    }

    func testResidualBlock() throws {
        for (name, up) in [("resblock-down", false), ("resblock-up", true)] {
            let a = try arrays(name)
            func conv(_ prefix: String, bias: Bool) throws -> PlainConv {
                let shape = a.shape("\(prefix).weight")
                return PlainConv(weight: try storage(a, "\(prefix).weight"), bias: bias ? try storage(a, "\(prefix).bias") : nil,
                                 outChannels: shape[0], inChannels: shape[1], kernel: shape[2])
            }
            let block = ResidualBlock(conv1: try conv("conv1", bias: true), conv2: try conv("conv2", bias: true),
                                      skip: try conv("skip", bias: false), up: up)
            let side = a.shape("x")[2], o = block.outSide(side), threads = Threads.count, ws = Workspace()
            let counts = block.recordCounts(side: side)
            let buffers = [counts.conv1, counts.resized, counts.conv2, counts.shortcut].map { buffer($0) }
            let record = ResidualBlockRecord(conv1: buffers[0].pointer, resized: buffers[1].pointer, conv2: buffers[2].pointer,
                                             shortcut: buffers[3].pointer)
            let x = try storage(a, "x"), y = buffer(block.conv2.outChannels * o * o)
            try block.trainingForward(x.pointer, side: side, record: record, into: y.pointer, threads: threads, scratch: ws)
            assertClose(y.array, try a.floats("output"), "\(name) forward")
            let grads = ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "skip.weight"].map {
                ($0, buffer(a.shape($0).reduce(1, *)))
            }
            func g(_ i: Int) -> UnsafeMutablePointer<Float> { grads[i].1.pointer }
            let dy = try storage(a, "grad_output"), dx = buffer(x.count)
            try block.backward(input: x.pointer, side: side, record: record, gradOutput: dy.pointer, gradInput: dx.pointer,
                               gradients: ResidualBlockGradients(conv1: PlainConvGradients(weight: g(0), bias: g(1)),
                                                                 conv2: PlainConvGradients(weight: g(2), bias: g(3)),
                                                                 skip: PlainConvGradients(weight: g(4), bias: nil)),
                               threads: threads, scratch: ws)
            assertClose(dx.array, try a.floats("grad.x"), "\(name) dX")
            for (param, storage) in grads { assertClose(storage.array, try a.floats("grad.\(param)"), "\(name) d(\(param))") }
        }
    }
}
