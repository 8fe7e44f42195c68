import AVPGANCore
#if canImport(Glibc)
import Glibc
#endif

/// Set by SIGINT/SIGTERM: the training loop checkpoints and stops at the end of the step.
nonisolated(unsafe) var stopRequested: sig_atomic_t = 0

/// `avpgan train`: parses the options and runs a `GANTrainingSession` (Algorithm 1 on a data set
/// with checkpoints, resume, sample sheets and a JSONL log), with Ctrl-C and progress on the
/// terminal. Under mpirun or srun with several ranks it trains data-parallel (`MPIProcessGroup`);
/// rank 0 writes and prints, and any failure ends every rank (`fail`).
enum TrainCommand {
    static func run(_ o: Options, flags: Set<String>) throws -> Int32 {
        guard let voices = o.values["--voices"], let faces = o.values["--faces"] else { fail("train needs --voices DIR --faces DIR", code: 2) }
        guard let encoder = o.values["--voice-encoder"] else { fail("train needs --voice-encoder MODEL (a model file holding a voice encoder)", code: 2) }
        guard let output = o.values["-o"] else { fail("train needs -o MODEL.safetensors", code: 2) }
        guard let arch = Architecture(rawValue: o.values["--arch"] ?? "avpgan") else { fail("--arch takes voice2face, avpgan or avpgan-nocbam", code: 2) }
        guard let widths = TrainingRun.Widths(rawValue: o.values["--widths"] ?? "full") else { fail("--widths takes full or tiny", code: 2) }
        var options = GANTrainingSession.Options()
        options.readSchedule(o, flags: flags)
        let batch = o.integer("--batch", default: 64)
        options.batchSize = batch
        options.samplesEvery = o.integer("--samples-every", default: options.checkpointEvery)
        options.stopOnCollapse = flags.contains("--stop-on-collapse")
        guard options.steps >= 0, (1...4096).contains(batch), options.checkpointEvery >= 1, options.samplesEvery >= 0 else {
            fail("--steps >= 0, --batch 1...4096, --checkpoint-every >= 1, --samples-every >= 0", code: 2)
        }
        let seed = UInt64(truncatingIfNeeded: o.integer("--seed", default: 1))
        let warmUp = o.integer("--health-warm-up", default: TrainingHealth.defaultWarmUp)
        guard warmUp >= 1 else { fail("--health-warm-up takes a number of steps >= 1", code: 2) }
        let generatorSN = o.onOff("--generator-sn", default: TrainingRun.defaultGeneratorSpectralNorm)
        let generatorCBAM = o.onOff("--generator-cbam", default: TrainingRun.defaultGeneratorCBAM)
        let cbamReduction = o.integer("--cbam-reduction", default: TrainingRun.defaultCBAMReduction)
        guard (1...ModelConfig.maxWidth).contains(cbamReduction) else { fail("--cbam-reduction takes 1...\(ModelConfig.maxWidth)", code: 2) }
        let gateName = o.values["--cbam-gate"] ?? TrainingRun.defaultCBAMGate.rawValue
        guard let cbamGate = CBAMGate(rawValue: gateName) else {
            fail("--cbam-gate takes \(CBAMGate.allCases.map(\.rawValue).joined(separator: " or ")), got '\(gateName)'", code: 2)
        }
        if o.values["--threads"] != nil { try Threads.set(o.integer("--threads", default: 0)) }
        var recipe = GANTrainingSession.Recipe()
        recipe.arch = arch
        recipe.widths = widths
        recipe.voiceEncoderFile = encoder
        recipe.seed = seed
        recipe.generatorSpectralNorm = generatorSN
        recipe.generatorCBAM = generatorCBAM
        recipe.cbamReduction = cbamReduction
        recipe.cbamGate = cbamGate
        recipe.healthWarmUp = warmUp
        // Under mpirun/srun with several ranks: data-parallel training; rank 0 writes everything.
        let console = try TrainingConsole()
        let group = console.group, lead = console.lead, tty = console.tty
        func say(_ line: String) { console.say(line) }
        if let group, batch < group.size { fail("--batch \(batch) is smaller than the \(group.size) ranks; each rank needs at least one row", code: 2) }
        let index = try DatasetOptions.index(o, voices: voices, faces: faces)
        let cache = try FeatureCache(directory: o.values["--cache"] ?? FeatureCache.defaultDirectory)
        say("feature cache: \(cache.directory)")
        TrainingConsole.requireCheckpoint(resume: options.resume, directory: options.checkpointDirectory, name: GANTrainingSession.checkpointName)
        let session = try GANTrainingSession(options: options, recipe: recipe, index: index, cache: cache, rank: group?.rank ?? 0) { done, total in
            if tty { fputs("\rloading data \(done)/\(total)\u{1B}[K", stderr) }
        }
        let run = session.run
        // The checkpoint decides the recipe; a gate asked for explicitly must be the one it was made with.
        if options.resume, o.values["--cbam-gate"] != nil, run.config.arch.hasCBAM, run.config.cbamGate != cbamGate {
            fail("--cbam-gate \(cbamGate.rawValue), but the checkpoint was trained with the \(run.config.cbamGate.rawValue) gate (a resumed run keeps its checkpoint's)", code: 2)
        }
        if tty { fputs("\r\u{1B}[K", stderr) }
        if let group {
            try session.distribute(over: group, fingerprint: DatasetOptions.fingerprint(index))
            console.sayShared(batch: batch, rows: "rows")
        }
        TrainingConsole.stopOnSignals()
        let start = Bench.now(), first = run.step
        say("training \(run.config.arch.rawValue) (\(widths.rawValue) widths) on \(index.train.count) identities, batch \(batch), steps \(run.step)..<\(options.steps)")
        let outcome = try session.train(onStep: { r in
            if tty {
                let warn = run.health.isHealthy ? "" : "  WARNING: " + run.health.warnings.map(\.rawValue).joined(separator: ", ")
                fputs(TrainingConsole.progress(step: r.step, of: r.steps, stepsPerSecond: r.stepsPerSecond) + zip(TrainingRun.lossNames, r.losses).map { "\($0) \(fixed(Double($1), 3))" }.joined(separator: " ") + warn + "\u{1B}[K", stderr)
            }
            if !r.newWarnings.isEmpty {
                if tty { fputs("\n", stderr) }
                for (w, at) in r.newWarnings where lead { fputs("avpgan train: WARNING at step \(at): \(w.rawValue): \(w.meaning)\n", stderr) }
            }
        }, shouldStop: { stopRequested != 0 })
        if case .collapsed(let lastGood) = outcome {
            // The last checkpoint written while the run was healthy is kept; the log is written.
            let kept = session.checkpointPath.map { path in lastGood.map { " The last healthy checkpoint, step \($0), is kept in \(path)." } ?? " No healthy checkpoint was written; \(path) is left as it was." } ?? ""
            say("stopped at step \(run.step) (--stop-on-collapse): \(run.health.summary).\(kept) No model was written (docs/training-design.md, \"Training health\").")
            return 3
        }
        if outcome == .stopped { stopRequested = 1 }
        if tty { fputs("\n", stderr) }
        if !run.health.isHealthy { say("WARNING: \(run.health.summary)") }
        console.sayCommunication(since: start, first: first, step: run.step, reducedFloats: run.reducedFloatsPerStep, reduced: "gradient bytes")
        if stopRequested != 0 {
            console.sayStopped(at: run.step, checkpointPath: session.checkpointPath)
            return 130
        }
        try session.export(to: output)
        say("wrote \(output) after \(run.step) steps")
        return 0
    }
}
