@testable import AVPGANCore
import XCTest

/// Three consecutive training steps against the reference's `gan_step`
/// (fixtures: tools/fixtures/make_training_golden.py, Tests/Fixtures/training/README.md).
///
/// Losses must match to 1e-4 relative (step 0 to 1e-5). Weights after step 2 cannot all match
/// to 1e-4: measured on avpgan-nocbam, the step-0 generator gradients agree with torch's to
/// 1e-6 relative, but in step 1 one LeakyReLU pre-activation of one image lies within float32
/// rounding of 0 and falls on the other side of the kink in torch's summation order (oneDNN
/// vs OpenBLAS), and Adam's normalised update (~lr x sign for a small gradient history) turns
/// that into weight differences up to a few lr. So: 99.9 % of the weights within 2e-5, and
/// every weight within 6 lr (1.2e-3), the most three Adam steps of two networks can move it.
final class GANStepParityTests: XCTestCase {
    /// The reference's three architectures, and the training recipes of
    /// tools/fixtures/reference_recipes.py (avpgan with spectral norm on the face encoder only, with
    /// CBAM in the face encoder only, with CBAM's channel MLP reduced by 4 instead of 16, and
    /// with CBAM's residual gate `x (1 + M)`).
    static let fixtures = Fixtures.architectures
        + ["avpgan.generator-sn-off", "avpgan.generator-cbam-off", "avpgan.cbam-reduction-4", "avpgan.cbam-residual"]

    /// `fixture`: a folder of Tests/Fixtures/training. Its metadata names the architecture and,
    /// for a recipe, `avpgan.recipe` (`{"generator_spectral_norm": false}`, `{"generator_cbam":
    /// false}`, `{"cbam_reduction": 4}`, `{"cbam_gate": "residual"}`).
    static func load(_ fixture: String) throws -> (GANTrainer, Safetensors) {
        let dir = "\(Fixtures.root)/training/\(fixture)"
        let initial = try Safetensors(bytes: try FileIO.read("\(dir)/initial.safetensors"))
        let json = try JSON.parse(initial.metadata["avpgan.training_config"]!)
        func ints(_ v: JSONValue?) -> [Int] { v?.arrayValue?.compactMap { $0.integerValue.map(Int.init) } ?? [] }
        let widths = json["widths"]!
        let arch = Architecture(rawValue: initial.metadata["avpgan.arch"]!)!
        var config = ModelConfig(arch: arch, networks: NetworkName.allCases, nMels: 64,
                                 embedDim: Int(json["embed"]!.integerValue!), voiceWidths: ints(widths["voice"]),
                                 generatorWidths: ints(widths["gen"]), faceWidths: ints(widths["face"]),
                                 identities: Int(json["identities"]!.integerValue!), spectralNorm: arch.hasSpectralNorm ? .stored : SpectralNormStorage.none)
        if let text = initial.metadata["avpgan.recipe"] {
            let recipe = try JSON.parse(text)
            if case .bool(false)? = recipe["generator_spectral_norm"] { config.generatorSpectralNorm = false }
            if case .bool(false)? = recipe["generator_cbam"] { config.generatorCBAM = false }
            if let r = recipe["cbam_reduction"]?.integerValue { config.cbamReduction = Int(r) }
            if let g = recipe["cbam_gate"]?.stringValue { config.cbamGate = try XCTUnwrap(CBAMGate(rawValue: g), "recipe cbam_gate \(g)") }
        }
        var tensors: [String: [Float]] = [:]
        for e in initial.entries where e.dtype.isFloat { tensors[e.name] = try initial.floats(e) }
        let steps = try Safetensors(bytes: try FileIO.read("\(dir)/steps.safetensors"))
        return (try GANTrainer(config: config, tensors: tensors), steps)
    }

    func labels(_ file: Safetensors, _ name: String) -> [Int] {
        let raw = file.rawBytes(file.entry(name)!)
        return stride(from: 0, to: raw.count, by: 8).map { i in (0..<8).reduce(0) { $0 | Int(raw[i + $1]) << (8 * $1) } }
    }

    /// Runs fixture step `k` on `trainer`; returns the losses.
    @discardableResult
    func run(_ trainer: GANTrainer, _ steps: Safetensors, _ k: Int) throws -> [Float] {
        let voice = try steps.floats(steps.entry("voice_\(k)")!)
        let shape = steps.entry("voice_\(k)")!.shape
        let (n, t) = (shape[0], shape[2])
        var frameMajor = [Float](repeating: 0, count: voice.count)
        for b in 0..<n { for m in 0..<64 { for f in 0..<t { frameMajor[(b * t + f) * 64 + m] = voice[(b * 64 + m) * t + f] } } }
        return try trainer.step(voices: frameMajor, frames: t, voiceLabels: labels(steps, "voice_label_\(k)"),
                                faces: try steps.floats(steps.entry("face_\(k)")!), faceLabels: labels(steps, "face_label_\(k)"),
                                noise: try steps.floats(steps.entry("noise_\(k)")!))
    }

    /// A run stopped after two steps, checkpointed to bytes and resumed, continues bit for bit.
    func testResumeFromCheckpointIsBitIdentical() throws {
        for arch in GANStepParityTests.fixtures {
            let (straight, steps) = try Self.load(arch)
            for k in 0..<3 { try run(straight, steps, k) }
            let (first, _) = try Self.load(arch)
            for k in 0..<2 { try run(first, steps, k) }
            let bytes = try first.checkpoint(step: 2, rng: 99).serialize()
            let restored = try TrainingCheckpoint(bytes: bytes)
            XCTAssertEqual(restored.step, 2)
            XCTAssertEqual(restored.adamStep, 2)
            let resumed = try GANTrainer(checkpoint: restored)
            let lossesResumed = try run(resumed, steps, 2)
            let a = straight.checkpoint(step: 3, rng: 0), b = resumed.checkpoint(step: 3, rng: 0)
            XCTAssertEqual(a.tensors, b.tensors, "\(arch): weights after resuming differ from a straight run")
            XCTAssertEqual(a.exp_avg, b.exp_avg, "\(arch): Adam moments differ after resuming")
            XCTAssertEqual(a.exp_avg_sq, b.exp_avg_sq)
            XCTAssertEqual(b.adamStep, 3)
            XCTAssertFalse(lossesResumed.isEmpty)
        }
    }

    /// Inference with a recipe: the fixture's initial networks exported as a model file (spectral
    /// norm folded from the stored u, v) generate the faces the reference recipe's generator
    /// makes in eval mode (`generator.safetensors`, tools/fixtures/make_recipe_generator_golden.py).
    func testRecipeModelGeneratesAsTheReference() throws {
        for fixture in ["avpgan.cbam-residual"] {
            let golden = try Safetensors(bytes: try FileIO.read("\(Fixtures.root)/training/\(fixture)/generator.safetensors"))
            let (trainer, _) = try Self.load(fixture)
            let model = try Model(bytes: try trainer.checkpoint(step: 0, rng: 0).exportModel())
            let embeddings = try golden.floats(golden.entry("embeddings")!), expected = try golden.floats(golden.entry("images")!)
            let n = embeddings.count / model.embedDim
            var images = [Float](repeating: 0, count: n * model.imageFloats)
            try model.generate(embeddings: embeddings, count: n, embedDim: model.embedDim, into: &images)
            let d = maxAbsDifference(images, expected)
            XCTAssertLessThanOrEqual(d.value, 1e-5, "\(fixture): the exported model's faces differ from the reference generator's by \(d.value) at \(d.index)")
            print("\(fixture): exported model's faces within \(d.value) of the reference's (\(n) faces)")
        }
    }

    func testThreeStepsMatchReference() throws {
        for arch in GANStepParityTests.fixtures {
            let (trainer, steps) = try Self.load(arch)
            for k in 0..<3 {
                let voice = try steps.floats(steps.entry("voice_\(k)")!)  // [N, 64, T]
                let shape = steps.entry("voice_\(k)")!.shape
                let (n, t) = (shape[0], shape[2])
                var frameMajor = [Float](repeating: 0, count: voice.count)
                for b in 0..<n { for m in 0..<64 { for f in 0..<t { frameMajor[(b * t + f) * 64 + m] = voice[(b * 64 + m) * t + f] } } }
                let losses = try trainer.step(voices: frameMajor, frames: t, voiceLabels: labels(steps, "voice_label_\(k)"),
                                              faces: try steps.floats(steps.entry("face_\(k)")!), faceLabels: labels(steps, "face_label_\(k)"),
                                              noise: try steps.floats(steps.entry("noise_\(k)")!))
                let expected = try steps.floats(steps.entry("losses_\(k)")!)
                for (i, name) in ["d_real", "d_fake", "c_real", "g_fake", "g_class"].enumerated() {
                    XCTAssertEqual(losses[i], expected[i], accuracy: (k == 0 ? 1e-5 : 1e-4) * abs(expected[i]),
                                   "\(arch) step \(k) \(name): \(losses[i]) vs reference \(expected[i])")
                }
            }
            // The trained tensors after the last step.
            var ours: [String: [Float]] = [:]
            ours.merge(trainer.generator.tensors) { a, _ in a }
            ours.merge(trainer.faceEncoder.tensors) { a, _ in a }
            ours["discriminator.model.weight"] = trainer.discriminator.value.array
            ours["classifier.model.weight"] = trainer.classifier.value.array
            var worst: (Float, String) = (0, ""), loose = 0, total = 0
            var differences: [Float] = []
            for e in steps.entries where e.name.hasPrefix("after_2.") {
                let name = String(e.name.dropFirst("after_2.".count))
                guard let mine = ours[name] else { XCTFail("\(arch): no \(name) in the Swift trainer"); continue }
                let reference = try steps.floats(e)
                for (a, b) in zip(mine, reference) {
                    total += 1
                    let d = abs(a - b)
                    differences.append(d)
                    if d > 1e-4 * max(abs(b), 1e-2) { loose += 1 }
                    if d > worst.0 { worst = (d, name) }
                }
            }
            XCTAssertLessThanOrEqual(worst.0, 1.2e-3, "\(arch): a weight after step 2 differs by \(worst.0) (\(worst.1)), more than Adam can explain")
            differences.sort()
            let p999 = differences[differences.count * 999 / 1000]
            // Adam's first steps move a weight by about lr x g / (|g| + eps): where a gradient is
            // near eps (1e-8) the step follows its last bits, i.e. the summation order. CBAM with
            // a wider MLP (reduction 4) has more such near-zero gradients in its gates: measured
            // 99.9 % at 2.4e-5 there against at most 4e-6 for the other fixtures. These bounds hold
            // with OpenBLAS's FMA kernels (Haswell, SkylakeX), which the library selects
            // (OpenBLASCore); under its SSE3 Prescott kernels (OPENBLAS_CORETYPE=Prescott, no FMA)
            // the generator-sn-off and generator-cbam-off fixtures drift past them (measured
            // 2026-12-07: 99.9 % at 3.7e-4 and 3.4e-4, losses 1.1e-4 relative from step 1); why
            // these two are that sensitive to the rounding of the GEMMs was not found.
            let bound: Float = arch.hasPrefix("avpgan.cbam-reduction") ? 5e-5 : 2e-5
            XCTAssertLessThanOrEqual(p999, bound, "\(arch): 0.1 % of the weights after step 2 differ by more than \(p999)")
            print("\(arch): weight differences median \(differences[differences.count / 2]), 99% \(differences[differences.count * 99 / 100]), 99.9% \(differences[differences.count * 999 / 1000])")
            print("\(arch): losses match; after step 2 the largest weight difference is \(worst.0) (\(worst.1)), \(loose)/\(total) beyond 1e-4 relative")
        }
    }
}
