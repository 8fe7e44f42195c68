import AVPGANCore
#if canImport(Glibc)
import Glibc
#endif

/// `avpgan bench`: times the voice encoder and the generator of a model on this machine.
enum Bench {
    static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    /// Median seconds per call of `body` over repeated calls for about `seconds` (after a warm-up).
    static func time(seconds: Double, _ body: () throws -> Void) rethrows -> Double {
        try body()
        var samples: [Double] = []
        let start = now()
        while samples.count < 3 || (now() - start < seconds && samples.count < 1000) {
            let t0 = now()
            try body()
            samples.append(now() - t0)
        }
        samples.sort()
        return samples[samples.count / 2]
    }

    static func run(model path: String, batches: [Int], frames: Int, seconds: Double, json: Bool, voice: String? = nil) throws {
        let model = try Model(path: path)
        let e = model.embedDim
        var results: [(String, Double, String)] = []
        if let voice {
            // The front end as a caller sees it: decode the file, VAD, log-mel.
            let tDecode = try time(seconds: seconds) { _ = try AudioDecoder.decode(path: voice) }
            let audio = try AudioDecoder.decode(path: voice)
            let tFeatures = try time(seconds: seconds) { _ = try FrontEnd.features(audio) }
            let pipeline = try PortraitPipeline(model: model)
            let tPortrait = try time(seconds: seconds) { _ = try pipeline.png(voicePath: voice) }
            results.append(("frontend_decode", tDecode, "\(fixed(tDecode * 1e3, 3)) ms"))
            results.append(("frontend_vad_logmel", tFeatures, "\(fixed(tFeatures * 1e3, 3)) ms"))
            results.append(("frontend_total", tDecode + tFeatures, "\(fixed((tDecode + tFeatures) * 1e3, 3)) ms"))
            results.append(("portrait_png", tPortrait, "\(fixed(tPortrait * 1e3, 2)) ms (file -> PNG bytes)"))
        }
        let features = (0..<(frames * model.config.nMels)).map { i -> Float in Float((i * 7919) % 1009) / 504.5 - 1 }
        var embedding = [Float](repeating: 0, count: e)
        let tEmbed = try time(seconds: seconds) {
            try model.embed(features: features, frames: frames, melBands: model.config.nMels, into: &embedding)
        }
        results.append(("voice_encoder_\(frames)_frames", tEmbed, "\(fixed(tEmbed * 1e3, 2)) ms"))
        for b in batches {
            var embeddings: [Float] = []
            for i in 0..<b { embeddings += SeededEmbedding.make(seed: UInt64(i), dimension: e) }
            var out = [Float](repeating: 0, count: b * model.imageFloats)
            let t = try time(seconds: seconds) {
                try model.generate(embeddings: embeddings, count: b, embedDim: e, into: &out)
            }
            results.append(("generator_batch_\(b)", t, "\(fixed(t * 1e3, 2)) ms, \(fixed(Double(b) / t, 1)) faces/s"))
        }
        if json {
            let items = results.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ")
            print("{\"arch\": \"\(model.config.arch.rawValue)\", \"threads\": \(Threads.count), \(items)}")
        } else {
            print("\(path): \(model.config.arch.rawValue), \(Threads.count) threads")
            for r in results { print("  \(r.0): \(r.2)") }
        }
    }
}

extension Bench {
    /// `avpgan bench --train ARCH`: seconds per `GANTrainer` step at full widths on random data,
    /// after one warm-up step; prints every step's time and their median (JSON: one object).
    static func runTraining(arch: Architecture, batch: Int, frames: Int, steps: Int, json: Bool) throws {
        let bench = try GANStepBenchmark(arch: arch, batch: batch, frames: frames)
        try bench.step()
        var samples: [Double] = []
        for _ in 0..<max(steps, 1) {
            let t0 = now()
            try bench.step()
            samples.append(now() - t0)
        }
        let median = samples.sorted()[samples.count / 2]
        if json {
            let list = samples.map { String($0) }.joined(separator: ", ")
            print("{\"arch\": \"\(arch.rawValue)\", \"threads\": \(Threads.count), \"batch\": \(batch), \"frames\": \(frames), "
                  + "\"train_step\": \(median), \"train_steps\": [\(list)]}")
        } else {
            print("training step, \(arch.rawValue), full widths, batch \(batch), \(frames) frames, \(Threads.count) threads: "
                  + "median \(fixed(median, 3)) s of [" + samples.map { fixed($0, 3) }.joined(separator: ", ") + "]")
        }
    }
}
