import AVPGANCore
#if canImport(Glibc)
import Glibc
#endif

/// `avpgan train-voice`: parses the options and runs a `VoiceEncoderTrainingSession` (speaker-
/// classifier pre-training with checkpoints, resume and a JSONL log), with Ctrl-C and progress
/// on the terminal; writes the encoder-only model file for `avpgan train --voice-encoder` and
/// prints the speaker accuracy on held-out utterances of the training speakers. Under mpirun
/// or srun with several ranks it trains data-parallel (`MPIProcessGroup`); rank 0 writes and
/// prints, and any failure ends every rank (`fail`).
enum TrainVoiceCommand {
    static func run(_ o: Options, flags: Set<String>) throws -> Int32 {
        guard let voices = o.values["--voices"] else { fail("train-voice needs --voices DIR", code: 2) }
        guard let output = o.values["-o"] else { fail("train-voice needs -o ENCODER.safetensors", code: 2) }
        guard let widths = TrainingRun.Widths(rawValue: o.values["--widths"] ?? "full") else { fail("--widths takes full or tiny", code: 2) }
        var options = VoiceEncoderTrainingSession.Options()
        options.readSchedule(o, flags: flags)
        let batch = o.integer("--batch", default: 64)
        options.batchSize = batch
        guard options.steps >= 0, (2...4096).contains(batch), options.checkpointEvery >= 1 else {
            fail("--steps >= 0, --batch 2...4096, --checkpoint-every >= 1", code: 2)
        }
        let lrText = o.values["--lr"] ?? "2e-4"
        guard let lr = Double(lrText), lr > 0, lr < 1 else { fail("--lr takes a number in (0, 1), got '\(lrText)'", code: 2) }
        options.widths = widths
        options.lr = lr
        options.seed = UInt64(truncatingIfNeeded: o.integer("--seed", default: 1))
        if o.values["--threads"] != nil { try Threads.set(o.integer("--threads", default: 0)) }
        let console = try TrainingConsole()
        let group = console.group, lead = console.lead, tty = console.tty
        func say(_ line: String) { console.say(line) }
        if let group, batch < group.size { fail("--batch \(batch) is smaller than the \(group.size) ranks; each rank needs at least one crop", code: 2) }
        TrainingConsole.requireCheckpoint(resume: options.resume, directory: options.checkpointDirectory,
                                          name: VoiceEncoderTrainingSession.checkpointName)
        let index = try DatasetOptions.index(o, voices: voices, faces: nil)
        let cache = try FeatureCache(directory: o.values["--cache"] ?? FeatureCache.defaultDirectory)
        say("feature cache: \(cache.directory)")
        let session = try VoiceEncoderTrainingSession(options: options, index: index, cache: cache, reducer: group,
                                                      fingerprint: DatasetOptions.fingerprint(index)) { done, total in
            if tty { fputs("\rloading voices \(done)/\(total)\u{1B}[K", stderr) }
        }
        let run = session.run
        if tty { fputs("\r\u{1B}[K", stderr) }
        TrainingConsole.stopOnSignals()
        let c = run.config
        console.sayShared(batch: batch, rows: "crops", note: ", BatchNorm synchronised")
        say("pre-training the voice encoder (widths \(c.voiceWidths), embedding \(c.embedDim)) as a classifier of \(run.speakerNames.count) speakers, \(run.heldOutCount) utterances held out, batch \(batch), steps \(run.step)..<\(options.steps)")
        let start = Bench.now(), first = run.step
        let finished = try session.train(onStep: { r in
            guard tty else { return }
            fputs(TrainingConsole.progress(step: r.step, of: r.steps, stepsPerSecond: r.stepsPerSecond) + "loss \(fixed(Double(r.loss), 4))  accuracy \(fixed(100 * r.runningAccuracy, 1)) % (last \(r.accuracyWindow) steps)\u{1B}[K", stderr)
        }, shouldStop: { stopRequested != 0 })
        if tty { fputs("\n", stderr) }
        console.sayCommunication(since: start, first: first, step: run.step, reducedFloats: run.reducedFloatsPerStep, reduced: "bytes reduced")
        if !finished {
            console.sayStopped(at: run.step, checkpointPath: session.checkpointPath)
            return 130
        }
        let elapsed = Bench.now() - start
        if run.step > first { say("\(run.step - first) steps in \(fixed(elapsed, 1)) s (\(fixed(Double(run.step - first) / elapsed, 2)) steps/s)") }
        try session.export(to: output)
        guard lead else { return 0 }
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
