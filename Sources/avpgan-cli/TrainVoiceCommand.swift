import AVPGANCore
#if canImport(Glibc)
import Glibc
#endif

/// `avpgan train-voice`: voice-encoder pre-training as a speaker classifier (the step before
/// Algorithm 1), with checkpoints, resume, Ctrl-C, progress and a JSONL log; writes an
/// encoder-only model file for `avpgan train --voice-encoder`, and reports the speaker accuracy
/// on held-out utterances of the training speakers.
enum TrainVoiceCommand {
    static func run(_ o: Options, flags: Set<String>) throws -> Int32 {
        guard let voices = o.values["--voices"] else { fail("train-voice needs --voices DIR", code: 2) }
        guard let output = o.values["-o"] else { fail("train-voice needs -o ENCODER.safetensors", code: 2) }
        guard let widths = TrainingRun.Widths(rawValue: o.values["--widths"] ?? "full") else { fail("--widths takes full or tiny", code: 2) }
        let steps = o.integer("--steps", default: 1000), batch = o.integer("--batch", default: 64)
        let every = o.integer("--checkpoint-every", default: 100)
        guard steps >= 0, (2...4096).contains(batch), every >= 1 else { fail("--steps >= 0, --batch 2...4096, --checkpoint-every >= 1", code: 2) }
        let lrText = o.values["--lr"] ?? "2e-4"
        guard let lr = Double(lrText), lr > 0, lr < 1 else { fail("--lr takes a number in (0, 1), got '\(lrText)'", code: 2) }
        let seed = UInt64(truncatingIfNeeded: o.integer("--seed", default: 1))
        if o.values["--threads"] != nil { try Threads.set(o.integer("--threads", default: 0)) }
        let dir = o.values["--checkpoint-dir"]
        if let dir { try SynthData.makeDirectory(dir) }
        let checkpointPath = dir.map { "\($0)/voice-checkpoint.safetensors" }
        let index = try TrainCommand.datasetIndex(o, voices: voices, faces: nil)
        let cache = try FeatureCache(directory: o.values["--cache"] ?? FeatureCache.defaultDirectory)
        print("feature cache: \(cache.directory)")
        let tty = isatty(STDERR_FILENO) == 1
        let loading: (Int, Int) -> Void = { done, total in if tty { fputs("\rloading voices \(done)/\(total)\u{1B}[K", stderr) } }
        let run: VoiceEncoderPretrainingRun
        if flags.contains("--resume") {
            guard let checkpointPath, access(checkpointPath, R_OK) == 0 else {
                fail("--resume needs --checkpoint-dir D holding voice-checkpoint.safetensors")
            }
            run = try VoiceEncoderPretrainingRun(checkpoint: try VoiceTrainingCheckpoint(bytes: try FileIO.read(checkpointPath)),
                                                 index: index, cache: cache, batchSize: batch, progress: loading)
        } else {
            run = try VoiceEncoderPretrainingRun(widths: widths, index: index, cache: cache, batchSize: batch, seed: seed,
                                                 lr: lr, progress: loading)
        }
        if tty { fputs("\r\u{1B}[K", stderr) }
        signal(SIGINT) { _ in stopRequested = 1 }
        signal(SIGTERM) { _ in stopRequested = 1 }
        var log: [UInt8] = []
        let logPath = o.values["--log"] ?? dir.map { "\($0)/train-voice.jsonl" }
        if flags.contains("--resume"), let logPath, let old = try? FileIO.read(logPath) { log = old }
        func save() throws {
            if let checkpointPath { try FileIO.write(try run.checkpoint().serialize(), to: checkpointPath) }
            if let logPath { try FileIO.write(log, to: logPath) }
        }
        let c = run.config
        print("pre-training the voice encoder (widths \(c.voiceWidths), embedding \(c.embedDim)) as a classifier of \(run.speakerNames.count) speakers, \(run.heldOutCount) utterances held out, batch \(batch), steps \(run.step)..<\(steps)")
        let start = Bench.now(), first = run.step
        // Running accuracy: the crops classified correctly over the last `window` steps.
        let window = 20
        var recent: [(correct: Int, total: Int)] = []
        while run.step < steps && stopRequested == 0 {
            let (loss, correct) = try run.next()
            recent.append((correct, batch))
            if recent.count > window { recent.removeFirst() }
            let accuracy = Double(recent.reduce(0) { $0 + $1.correct }) / Double(recent.reduce(0) { $0 + $1.total })
            let rate = Double(run.step - first) / max(Bench.now() - start, 1e-9)
            log += Array("{\"step\": \(run.step), \"loss\": \(loss), \"correct\": \(correct), \"batch\": \(batch), \"steps_per_second\": \(fixed(rate, 3))}\n".utf8)
            if tty {
                let eta = Double(steps - run.step) / max(rate, 1e-9)
                fputs("\rstep \(run.step)/\(steps)  \(fixed(rate, 2)) steps/s  ETA \(Int(eta)) s  loss \(fixed(Double(loss), 4))  accuracy \(fixed(100 * accuracy, 1)) % (last \(recent.count) steps)\u{1B}[K", stderr)
            }
            if run.step % every == 0 { try save() }
        }
        if tty { fputs("\n", stderr) }
        try save()
        if stopRequested != 0 {
            print("stopped at step \(run.step); resume with --resume\(checkpointPath == nil ? " (no --checkpoint-dir was given: progress is lost)" : "")")
            return 130
        }
        let elapsed = Bench.now() - start
        if run.step > first { print("\(run.step - first) steps in \(fixed(elapsed, 1)) s (\(fixed(Double(run.step - first) / elapsed, 2)) steps/s)") }
        try FileIO.write(try run.exportModel(), to: output)
        print("wrote \(output) (voice encoder only) after \(run.step) steps")
        let (right, total) = try run.heldOutAccuracy()
        if total == 0 {
            print("held-out accuracy: no speaker has two recordings with speech, so none was held out")
        } else {
            let chance = 100 / Double(run.speakerNames.count)
            print("held-out accuracy: \(right)/\(total) utterances (\(fixed(100 * Double(right) / Double(total), 1)) %, chance \(fixed(chance, 1)) %) classified as their speaker")
        }
        return 0
    }
}
