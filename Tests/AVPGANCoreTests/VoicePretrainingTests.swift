@testable import AVPGANCore
import XCTest

/// Voice-encoder pre-training against torch (fixtures: tools/fixtures/make_voice_training_golden.py,
/// Tests/Fixtures/voice-training/README.md): three Adam steps of speaker classification at
/// TINY widths, BatchNorm in train mode, one crop length per batch (48, 37, 29 frames).
/// The fixture's float32 run lands within 3.1e-8 (losses) and 2.9e-6 (weights, relative with
/// a 1e-2 floor) of a float64 run, so: losses within 1e-4 relative, every weight and running
/// statistic within 1e-4 · max(|b|, 1e-2), Adam moments within 1e-3 relative (floor 1e-6·max).
final class VoicePretrainingTests: XCTestCase {
    static let dir = "\(Fixtures.root)/voice-training"
    static let config = ModelConfig.voiceEncoderOnly(embedDim: 16, voiceWidths: [32, 48, 64, 96])
    static let speakers = 5

    func trainer() throws -> VoiceEncoderPretrainer {
        let initial = try Safetensors(bytes: try FileIO.read("\(Self.dir)/initial.safetensors"))
        var tensors: [String: [Float]] = [:]
        for e in initial.entries { tensors[e.name] = try initial.floats(e) }
        return try VoiceEncoderPretrainer(config: Self.config, speakers: Self.speakers, tensors: tensors)
    }

    /// Step `k`'s batch: voices frame-major `[N, T, 64]`, labels, T.
    func batch(_ steps: Safetensors, _ k: Int) throws -> ([Float], [Int], Int) {
        let entry = steps.entry("voice_\(k)")!
        let voice = try steps.floats(entry)
        let (n, t) = (entry.shape[0], entry.shape[2])
        var frameMajor = [Float](repeating: 0, count: voice.count)
        for b in 0..<n { for m in 0..<64 { for f in 0..<t { frameMajor[(b * t + f) * 64 + m] = voice[(b * 64 + m) * t + f] } } }
        let raw = steps.rawBytes(steps.entry("label_\(k)")!)
        let labels = stride(from: 0, to: raw.count, by: 8).map { i in (0..<8).reduce(0) { $0 | Int(raw[i + $1]) << (8 * $1) } }
        return (frameMajor, labels, t)
    }

    func testThreeStepsMatchTorch() throws {
        let trainer = try trainer()
        let steps = try Safetensors(bytes: try FileIO.read("\(Self.dir)/steps.safetensors"))
        let expected = try steps.floats(steps.entry("losses")!)
        let logits0 = try steps.floats(steps.entry("logits_0")!)
        for k in 0..<3 {
            let (voices, labels, t) = try batch(steps, k)
            let (loss, correct) = try trainer.step(voices: voices, frames: t, labels: labels)
            let rel = abs(loss - expected[k]) / abs(expected[k])
            print("voice pre-training step \(k): loss \(loss), torch \(expected[k]), relative difference \(rel)")
            XCTAssertLessThan(rel, 1e-4, "step \(k) loss")
            if k == 0 {
                let s = Self.speakers
                let torchCorrect = labels.indices.filter { b in
                    let row = Array(logits0[(b * s)..<((b + 1) * s)])
                    return row.firstIndex(of: row.max()!)! == labels[b]
                }.count
                XCTAssertEqual(correct, torchCorrect, "step 0: crops classified correctly")
            }
        }
        XCTAssertEqual(trainer.encoder.batchesTracked, 3)
        var worst: (Float, String) = (0, "")
        let now = trainer.tensors
        for (name, value) in now {
            let reference = try steps.floats(steps.entry("after.\(name)")!)
            XCTAssertEqual(value.count, reference.count, name)
            for i in value.indices {
                let scaled = abs(value[i] - reference[i]) / max(abs(reference[i]), 1e-2)
                if scaled > worst.0 { worst = (scaled, "\(name)[\(i)]") }
            }
        }
        print("voice pre-training weights after 3 steps: worst |a - b| / max(|b|, 1e-2) = \(worst.0) at \(worst.1)")
        XCTAssertLessThan(worst.0, 1e-4, "weights and running statistics after three steps (\(worst.1))")
        XCTAssertEqual(Set(now.keys).count, Set(steps.entries.filter { $0.name.hasPrefix("after.") }.map(\.name)).count)
        for p in trainer.parameters {
            guard let m = steps.entry("adam.\(p.name).exp_avg"), let v = steps.entry("adam.\(p.name).exp_avg_sq") else { continue }
            for (mine, theirs) in [(p.adam.expAvg.array, try steps.floats(m)), (p.adam.expAvgSq.array, try steps.floats(v))] {
                let scale = theirs.map(abs).max()!
                let d = maxAbsDifference(mine, theirs)
                XCTAssertLessThan(d.value, 1e-3 * scale, "\(p.name) Adam moment")
            }
            XCTAssertEqual(p.adam.step, 3)
        }
    }

    /// Step 0's gradients of every parameter against torch's (the fixture's `grad_0.*`).
    func testGradientsMatchTorch() throws {
        let trainer = try trainer()
        let steps = try Safetensors(bytes: try FileIO.read("\(Self.dir)/steps.safetensors"))
        let (voices, labels, t) = try batch(steps, 0)
        _ = try trainer.gradients(voices: voices, frames: t, labels: labels)
        for p in trainer.parameters {
            let reference = try steps.floats(steps.entry("grad_0.\(p.name)")!)
            let scale = reference.map(abs).max()!
            let d = maxAbsDifference(p.grad.array, reference)
            print("voice pre-training gradient \(p.name): max |a - b| / max |b| = \(d.value / scale)")
            XCTAssertLessThan(d.value, 1e-4 * scale, "\(p.name) gradient")
        }
    }

    /// Finite differences through the composition (every op has its own check in GradientTests):
    /// the head, the final conv and the last block. Earlier layers are checked against torch's
    /// exact gradients above instead, because a Float-sized step crosses ReLU kinks there: on
    /// this batch torch in float64 gives 0.0389 (h 1e-2), 0.0408 (h 1e-3), 0.04390 (h 1e-4)
    /// for a `model.0.weight` gradient of 0.04390.
    func testGradientsMatchFiniteDifferences() throws {
        let trainer = try trainer()
        let steps = try Safetensors(bytes: try FileIO.read("\(Self.dir)/steps.safetensors"))
        let (voices, labels, t) = try batch(steps, 0)
        _ = try trainer.gradients(voices: voices, frames: t, labels: labels)
        let checks = GradientTests(name: "voice", testClosure: { _ in })
        let downstream = ["voice_encoder.model.9.", "voice_encoder.model.10.", "voice_encoder.model.12.", "speaker_head."]
        for p in trainer.parameters where downstream.contains(where: { p.name.hasPrefix($0) }) {
            let analytic = p.grad.array
            let original = p.value.array
            checks.check("voice pre-training \(p.name)", original, analytic: analytic, h: 2e-3, tol: 1e-2, maxChecks: 16) { x in
                p.value.pointer.update(from: x, count: x.count)
                defer { p.value.pointer.update(from: original, count: original.count) }
                return Double(try! trainer.gradients(voices: voices, frames: t, labels: labels).loss)
            }
        }
    }

    /// Two steps, a checkpoint through bytes, a third step: bit-identical to three straight steps.
    func testResumeFromCheckpointIsBitIdentical() throws {
        let steps = try Safetensors(bytes: try FileIO.read("\(Self.dir)/steps.safetensors"))
        let straight = try trainer(), first = try trainer()
        for k in 0..<3 { let (v, l, t) = try batch(steps, k); _ = try straight.step(voices: v, frames: t, labels: l) }
        for k in 0..<2 { let (v, l, t) = try batch(steps, k); _ = try first.step(voices: v, frames: t, labels: l) }
        let names = (0..<Self.speakers).map { "id\($0)" }
        let bytes = try first.checkpoint(step: 2, rng: 42, speakers: names).serialize()
        let restored = try VoiceTrainingCheckpoint(bytes: bytes)
        XCTAssertEqual(restored.step, 2)
        XCTAssertEqual(restored.rng, 42)
        XCTAssertEqual(restored.speakers, names)
        let resumed = try VoiceEncoderPretrainer(checkpoint: restored)
        let (v, l, t) = try batch(steps, 2)
        _ = try resumed.step(voices: v, frames: t, labels: l)
        let a = straight.checkpoint(step: 3, rng: 0, speakers: names), b = resumed.checkpoint(step: 3, rng: 0, speakers: names)
        XCTAssertEqual(a.tensors, b.tensors, "weights after resuming differ from a straight run")
        XCTAssertEqual(a.exp_avg, b.exp_avg)
        XCTAssertEqual(a.exp_avg_sq, b.exp_avg_sq)
        XCTAssertEqual(b.adamStep, 3)
        XCTAssertEqual(b.batchesTracked, 3)
        // A model file is not a checkpoint, and a checkpoint is refused as a GAN checkpoint.
        XCTAssertThrowsError(try VoiceTrainingCheckpoint(bytes: try restored.exportModel()))
        XCTAssertThrowsError(try TrainingCheckpoint(bytes: bytes))
    }

    /// The encoder-only model file: the library loads it, embeds with it exactly as a full model
    /// with the same encoder does, and refuses to generate with a clear error.
    func testEncoderOnlyModelFile() throws {
        let trainer = try trainer()
        let bytes = try trainer.checkpoint(step: 0, rng: 0, speakers: (0..<5).map { "s\($0)" }).exportModel()
        let model = try Model(bytes: bytes)
        XCTAssertEqual(model.loaded, [.voiceEncoder])
        XCTAssertEqual(model.config.networks, [.voiceEncoder])
        XCTAssertEqual(model.imageSize, 0)
        XCTAssertEqual(model.config.generatorWidths, [])
        let file = try Safetensors(bytes: bytes)
        XCTAssertNil(try JSON.parse(file.metadata["avpgan.config"]!)["generator_widths"])
        XCTAssertTrue(file.entries.allSatisfy { $0.name.hasPrefix("voice_encoder.") })
        // Same embedding as the encoder inside a full (voice encoder + generator) model.
        var full = ModelConfig(arch: .voice2face, embedDim: 16, voiceWidths: [32, 48, 64, 96], generatorWidths: [128, 64, 32, 16, 16])
        full.networks = [.voiceEncoder, .generator]
        var tensors = trainer.encoder.tensors
        for (name, shape) in TensorLayout.tensors(for: full) where name.hasPrefix("generator.") {
            tensors[name] = [Float](repeating: 0.01, count: shape.reduce(1, *))
        }
        let both = try Model(bytes: try ModelFileWriter.serialize(config: full, tensors: tensors))
        let features: [Float] = (0..<(300 * 64)).map { (i: Int) -> Float in Float((i * 7919) % 1009) / 504.5 - 1 }
        var a = [Float](repeating: 0, count: 16), b = a
        try model.embed(features: features, frames: 300, melBands: 64, into: &a)
        try both.embed(features: features, frames: 300, melBands: 64, into: &b)
        XCTAssertEqual(a, b)
        var out = [Float](repeating: 0, count: 3 * 64 * 64)
        XCTAssertThrowsError(try model.generate(embeddings: a, count: 1, embedDim: 16, into: &out)) { error in
            let e = error as! AVPGANError
            XCTAssertEqual(e.kind, .missingNetwork)
            XCTAssertTrue(e.message.contains("only a voice encoder"), e.message)
        }
        // A file that claims no generator but holds generator tensors is refused (extra tensor).
        XCTAssertThrowsError(try Model(bytes: try ModelFileWriter.serialize(config: full, tensors: tensors, metadata: [:]).withConfig(Self.config)))
    }
}

private extension Array where Element == UInt8 {
    /// The same tensors under another config's metadata.
    func withConfig(_ config: ModelConfig) throws -> [UInt8] {
        let file = try Safetensors(bytes: self)
        let tensors = try file.entries.map { SafetensorsWriter.Tensor(name: $0.name, shape: $0.shape, floats: try file.floats($0)) }
        return SafetensorsWriter.serialize(tensors, metadata: config.metadata)
    }
}
