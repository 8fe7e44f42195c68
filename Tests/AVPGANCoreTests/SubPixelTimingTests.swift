@testable import AVPGANCore
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `make bench-subpixel` (environment AVPGAN_TIMING=1): CPU time of the generator's upsampling
/// layers and of the whole generator, col2im against sub-pixel Winograd, full widths, one
/// thread (this thread's CPU time, the minimum over repeats: other processes' load does not
/// count). Prints the figures of docs/performance.md; it asserts no time, only that both ways
/// agree on every output it times and stay within the reference fixtures' tolerance. Skipped
/// unless asked: it takes about five minutes of CPU.
final class SubPixelTimingTests: XCTestCase {
    static let widths = [1024, 512, 256, 128, 64]
    static let repeats = 5

    override func setUpWithError() throws {
        try XCTSkipUnless(getenv("AVPGAN_TIMING").map { String(cString: $0) } == "1", "timing runs with AVPGAN_TIMING=1 (make bench-subpixel)")
        Threads.useSingleThreadedBLAS()
        try Threads.set(1)
    }

    override func tearDownWithError() throws { try Threads.set(0) }

    func testUpsamplingLayers() throws {
        var rng = SplitMix(seed: 18)
        print("layer                 batch  col2im ms  sub-pixel Winograd ms  ratio  max |difference|")
        try forEachLayer { batch, c, o, h in
            let bound = 1 / Float(4 * c).squareRoot()
            let weight = try FloatStorage((0..<(c * o * 16)).map { _ in (2 * rng.unit() - 1) * bound })
            let plain = ConvTranspose2d(weight: weight, inChannels: c, outChannels: o, geometry: .square(4, stride: 2, padding: 1))
            let packed = ConvTranspose2d(weight: weight, inChannels: c, outChannels: o, geometry: .square(4, stride: 2, padding: 1),
                                         subPixel: true)
            let input = try FloatStorage((0..<(c * batch * h * h)).map { _ in rng.unit() })
            let step = packed.imagesPerPass(batch: batch, h: h, w: h, budget: Scratch.cols)
            let plainStep = plain.imagesPerPass(batch: batch, h: h, w: h, budget: Scratch.cols)
            let cols = try FloatStorage(count: max(Scratch.cols, packed.scratchCount(batch: 1, h: h, w: h)))
            let epilogue = Epilogue(scale: nil, shift: try FloatStorage(count: o), activation: .relu)
            let x = FeatureMap(data: input.pointer, channels: c, batch: batch, height: h, width: h)
            func run(_ conv: ConvTranspose2d, into out: FloatStorage) -> Double {
                let y = FeatureMap(data: out.pointer, channels: o, batch: batch, height: 2 * h, width: 2 * h)
                let pass = conv.hasSubPixel ? step : plainStep
                return minimumCPUTime {
                    for first in stride(from: 0, to: batch, by: pass) {
                        let images = first..<min(first + pass, batch)
                        conv.forward(x.images(images), into: y.images(images), epilogue: epilogue, cols: cols.pointer)
                    }
                }
            }
            let a = try FloatStorage(count: o * batch * 4 * h * h), b = try FloatStorage(count: a.count)
            let tPlain = run(plain, into: a), tPacked = run(packed, into: b)
            let d = maxAbsDifference(Array(UnsafeBufferPointer(start: a.pointer, count: a.count)),
                                     Array(UnsafeBufferPointer(start: b.pointer, count: b.count)))
            XCTAssertLessThan(d.value, 1e-4, "ConvT \(c)->\(o) batch \(batch): the two ways differ by \(d.value) at \(d.index)")
            let way = packed.usesSubPixel(batch: step, h: h, w: h) ? "" : " (library: col2im)"
            print(label(c, o, h, batch), ms(tPlain), ms(tPacked), String(format: "%.2f", tPacked / tPlain), d.value, way)
        }
    }

    /// The input and output transforms alone, all four parities of every channel of a layer,
    /// the Swift code against the AVX-512 kernels (same bits, `SubPixelTransformTests`).
    func testTransforms() throws {
        try XCTSkipUnless(SubPixelWinograd.vectorised, "no AVX-512 F: the Swift transforms alone")
        var rng = SplitMix(seed: 19)
        print("transforms of layer    batch  input: Swift ms  AVX-512 ms  output: Swift ms  AVX-512 ms")
        try forEachLayer { batch, c, o, h in
            let tiles = batch * (h / 2) * (h / 2), step = max(c, o) * tiles + SubPixelWinograd.componentGap
            let input = try FloatStorage((0..<(c * batch * h * h)).map { _ in rng.unit() })
            let m = try FloatStorage((0..<(9 * step)).map { _ in rng.unit() })
            let v = try FloatStorage(count: 9 * step), y = try FloatStorage(count: o * batch * 4 * h * h)
            let x = FeatureMap(data: input.pointer, channels: c, batch: batch, height: h, width: h)
            let out = FeatureMap(data: y.pointer, channels: o, batch: batch, height: 2 * h, width: 2 * h)
            var times: [Double] = []
            for vectorised in [false, true] {
                times.append(minimumCPUTime {
                    for parity in 0..<4 {
                        for ch in 0..<c {
                            SubPixelWinograd.transformInput(x, channel: ch, py: parity / 2, px: parity % 2, tiles: tiles,
                                                            into: v.pointer, stride: step, vectorised: vectorised)
                        }
                    }
                })
                times.append(minimumCPUTime {
                    for parity in 0..<4 {
                        for ch in 0..<o {
                            SubPixelWinograd.transformOutput(m.pointer + ch * tiles, stride: step, tiles: 0..<tiles, py: parity / 2,
                                                             px: parity % 2, into: out, channel: ch, vectorised: vectorised)
                        }
                    }
                })
            }
            print(label(c, o, h, batch), ms(times[0]), ms(times[2]), ms(times[1]), ms(times[3]))
        }
    }

    /// Each layer's sub-pixel Winograd forward (GEMMs included, in the library's passes), with
    /// the Swift transforms against the AVX-512 ones; both must give the same bits.
    func testForwardByTransforms() throws {
        try XCTSkipUnless(SubPixelWinograd.vectorised, "no AVX-512 F: the Swift transforms alone")
        var rng = SplitMix(seed: 20)
        print("Winograd forward       batch  Swift transforms ms  AVX-512 transforms ms  ratio")
        try forEachLayer { batch, c, o, h in
            let bound = 1 / Float(4 * c).squareRoot()
            let weight = try FloatStorage((0..<(c * o * 16)).map { _ in (2 * rng.unit() - 1) * bound })
            let ready = try XCTUnwrap(SubPixelWeights(original: weight, inChannels: c, outChannels: o).prepare(winograd: true))
            let u = SubPixelWinograd.Weights(taps: ready.taps.pointer, extras: try XCTUnwrap(ready.extras).pointer,
                                             inChannels: c, outChannels: o)
            let pass = SubPixelWinograd.imagesWithin(Scratch.cols, inChannels: c, outChannels: o, batch: batch, h: h, w: h)
            let scratch = try FloatStorage(count: SubPixelWinograd.scratchCount(inChannels: c, outChannels: o, batch: pass, h: h, w: h))
            let input = try FloatStorage((0..<(c * batch * h * h)).map { _ in rng.unit() })
            let x = FeatureMap(data: input.pointer, channels: c, batch: batch, height: h, width: h)
            let epilogue = Epilogue(scale: nil, shift: try FloatStorage(count: o), activation: .relu)
            var outputs: [[Float]] = [], times: [Double] = []
            for vectorised in [false, true] {
                let y = try FloatStorage(count: o * batch * 4 * h * h)
                let out = FeatureMap(data: y.pointer, channels: o, batch: batch, height: 2 * h, width: 2 * h)
                times.append(minimumCPUTime {
                    for first in stride(from: 0, to: batch, by: pass) {
                        let images = first..<min(first + pass, batch)
                        SubPixelWinograd.forward(weights: u, x.images(images), into: out.images(images), epilogue: epilogue,
                                                 scratch: scratch.pointer, vectorised: vectorised)
                    }
                })
                outputs.append(Array(UnsafeBufferPointer(start: y.pointer, count: y.count)))
            }
            XCTAssertEqual(outputs[0].map(\.bitPattern), outputs[1].map(\.bitPattern), "ConvT \(c)->\(o) batch \(batch)")
            print(label(c, o, h, batch), ms(times[0]), ms(times[1]),
                  String(format: "%.2f", times[1] / times[0]))
        }
    }

    func testWholeGenerator() throws {
        let directory = Fixtures.temporaryDirectory("subpixel-timing")
        defer { Fixtures.removeDirectory(directory) }
        print("generator, full widths  batch  col2im ms  with sub-pixel Winograd ms  ratio  (random He-uniform weights)")
        for arch in [Architecture.voice2face, .avpgan, .avpganNoCBAM] {
            let path = "\(directory)/\(arch.rawValue).safetensors"
            let config = ModelConfig(arch: arch, embedDim: 64, voiceWidths: [256, 384, 576, 864], generatorWidths: Self.widths,
                                     spectralNorm: arch.hasSpectralNorm ? .folded : SpectralNormStorage.none)
            var rng = SplitMix(seed: 7)
            var tensors: [String: [Float]] = [:]
            for (name, shape) in TensorLayout.tensors(for: config) {
                // A transposed convolution k4 s2 sums in x 4 taps per output; others their row.
                let fan = name.hasPrefix("generator") && shape.count == 4 ? shape[0] * 4 : shape.dropFirst().reduce(1, *)
                tensors[name] = shape.count == 1 ? [Float](repeating: name.hasSuffix("running_var") ? 1 : 0, count: shape[0])
                    : (0..<shape.reduce(1, *)).map { _ in (2 * rng.unit() - 1) * (6 / Float(max(fan, 1))).squareRoot() }
            }
            try ModelFileWriter.write(config: config, tensors: tensors, to: path)
            let file = try Safetensors(bytes: try FileIO.read(path))
            let reader = try WeightReader(file: file, config: try ModelConfig.parse(metadata: file.metadata))
            let plain = try Generator(reader, subPixel: false), packed = try Generator(reader)
            // Building the generator from tensors in memory (its sub-pixel weights are made on
            // first use), then the CPU time of the first batch-64 forward, which makes them,
            // against the later ones'.
            let loadPlain = try minimumCPUTime { _ = try Generator(reader, subPixel: false) }
            let loadPacked = try minimumCPUTime { _ = try Generator(reader) }
            print(arch.rawValue.padding(toLength: 24, withPad: " ", startingAt: 0), "build", ms(loadPlain), ms(loadPacked))
            let fresh = try Generator(reader), first = (0..<(64 * 64)).map { _ in 2 * rng.unit() - 1 }
            var scratchImages = [Float](repeating: 0, count: 64 * 3 * 64 * 64)
            let firstCall = try cpuTime { try fresh.generate(first, count: 64, workspace: Workspace(), into: &scratchImages) }
            let laterCall = try minimumCPUTime { try fresh.generate(first, count: 64, workspace: Workspace(), into: &scratchImages) }
            print(arch.rawValue.padding(toLength: 24, withPad: " ", startingAt: 0), "first batch-64 forward", ms(firstCall),
                  "later", ms(laterCall), "transform about", ms(firstCall - laterCall))
            for batch in [1, 64] {
                let embeddings = (0..<(batch * 64)).map { _ in 2 * rng.unit() - 1 }
                var a = [Float](repeating: 0, count: batch * 3 * 64 * 64), b = a
                let workspace = Workspace()
                let tPlain = try minimumCPUTime { try plain.generate(embeddings, count: batch, workspace: workspace, into: &a) }
                let tPacked = try minimumCPUTime { try packed.generate(embeddings, count: batch, workspace: workspace, into: &b) }
                let d = maxAbsDifference(a, b), scale = a.reduce(0) { max($0, abs($1)) }
                XCTAssertLessThan(d.value, 1e-5 * scale, "\(arch.rawValue) batch \(batch): the two ways differ by \(d.value) at \(d.index) (largest |output| \(scale))")
                print(arch.rawValue.padding(toLength: 24, withPad: " ", startingAt: 0), "\(batch)".padding(toLength: 6, withPad: " ", startingAt: 0),
                      ms(tPlain), ms(tPacked), String(format: "%.2f", tPacked / tPlain), "max |difference|", d.value, "of largest |output|", scale)
            }
        }
    }

    /// The error of both ways against the PyTorch reference's images (tools/fixtures/make_golden.py,
    /// TINY widths), on 8 copies of the fixture's inputs so that every layer takes the sub-pixel way.
    func testReferenceFixtureError() throws {
        print("golden fixture      max |image - reference|: col2im  sub-pixel Winograd  (tolerance \(GoldenParityTests.imageTolerance))")
        for arch in Fixtures.architectures {
            let dir = Fixtures.golden(arch)
            let file = try Safetensors(bytes: try FileIO.read("\(dir)/model.safetensors"))
            let reader = try WeightReader(file: file, config: try ModelConfig.parse(metadata: file.metadata))
            let golden = try Fixtures.Arrays("\(dir)/golden.safetensors")
            let n = golden.shape("gen_input")[0], copies = 8
            let input = Array(repeating: try golden.floats("gen_input"), count: copies).flatMap { $0 }
            let expected = Array(repeating: try golden.floats("images"), count: copies).flatMap { $0 }
            var errors: [Float] = []
            for subPixel in [false, true] {
                let generator = try Generator(reader, subPixel: subPixel)
                var images = [Float](repeating: 0, count: expected.count)
                try generator.generate(input, count: n * copies, workspace: Workspace(), into: &images)
                let d = maxAbsDifference(images, expected)
                XCTAssertLessThanOrEqual(d.value, GoldenParityTests.imageTolerance, "\(arch), sub-pixel \(subPixel): image differs by \(d.value) at \(d.index)")
                errors.append(d.value)
            }
            print(arch.padding(toLength: 20, withPad: " ", startingAt: 0), errors[0], errors[1])
        }
    }

    /// `body(batch, c, o, h)` for each upsampling layer (`c -> o` on `h x h` inputs) at batch 1, then 64.
    func forEachLayer(_ body: (Int, Int, Int, Int) throws -> Void) rethrows {
        for batch in [1, 64] {
            for (i, (c, o)) in zip(Self.widths, Self.widths.dropFirst()).enumerated() { try body(batch, c, o, 4 << i) }
        }
    }

    /// A row's first two columns: the layer, padded to 22, and the batch, to 6.
    func label(_ c: Int, _ o: Int, _ h: Int, _ batch: Int) -> String {
        "ConvT \(c)->\(o) at \(h)x\(h)".padding(toLength: 22, withPad: " ", startingAt: 0) + " "
            + "\(batch)".padding(toLength: 6, withPad: " ", startingAt: 0)
    }

    func ms(_ seconds: Double) -> String { String(format: "%9.2f", seconds * 1e3) }

    /// This thread's CPU time in seconds.
    func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    /// The CPU time of this thread for one call of `body`.
    func cpuTime(_ body: () throws -> Void) rethrows -> Double {
        let t0 = now()
        try body()
        return now() - t0
    }

    /// The least CPU time of this thread over `repeats` calls of `body`, after one warm-up call.
    func minimumCPUTime(_ body: () throws -> Void) rethrows -> Double {
        try body()
        var best = Double.infinity
        for _ in 0..<Self.repeats { best = min(best, try cpuTime(body)) }
        return best
    }
}
