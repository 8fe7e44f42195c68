import AVPGANCore
#if canImport(Glibc)
import Glibc
#endif

/// Set by SIGINT/SIGTERM: the training loop checkpoints and stops at the end of the step.
nonisolated(unsafe) var stopRequested: sig_atomic_t = 0

/// `avpgan train`: Algorithm 1 on a data set, with checkpoints, resume, progress and a log.
enum TrainCommand {
    static func run(_ o: Options, flags: Set<String>) throws -> Int32 {
        guard let voices = o.values["--voices"], let faces = o.values["--faces"] else { fail("train needs --voices DIR --faces DIR", code: 2) }
        guard let encoder = o.values["--voice-encoder"] else { fail("train needs --voice-encoder MODEL (a model file holding a voice encoder)", code: 2) }
        guard let output = o.values["-o"] else { fail("train needs -o MODEL.safetensors", code: 2) }
        guard let arch = Architecture(rawValue: o.values["--arch"] ?? "avpgan") else { fail("--arch takes voice2face, avpgan or avpgan-nocbam", code: 2) }
        guard let widths = TrainingRun.Widths(rawValue: o.values["--widths"] ?? "full") else { fail("--widths takes full or tiny", code: 2) }
        let steps = o.integer("--steps", default: 1000), batch = o.integer("--batch", default: 64)
        let every = o.integer("--checkpoint-every", default: 100)
        let samplesEvery = o.integer("--samples-every", default: every)
        guard steps >= 0, (1...4096).contains(batch), every >= 1, samplesEvery >= 0 else {
            fail("--steps >= 0, --batch 1...4096, --checkpoint-every >= 1, --samples-every >= 0", code: 2)
        }
        let seed = UInt64(truncatingIfNeeded: o.integer("--seed", default: 1))
        let warmUp = o.integer("--health-warm-up", default: TrainingHealth.defaultWarmUp)
        guard warmUp >= 1 else { fail("--health-warm-up takes a number of steps >= 1", code: 2) }
        let generatorSN: Bool
        switch o.values["--generator-sn"] {
        case nil: generatorSN = TrainingRun.defaultGeneratorSpectralNorm
        case "on": generatorSN = true
        case "off": generatorSN = false
        case let other?: fail("--generator-sn takes on or off, got '\(other)'", code: 2)
        }
        let generatorCBAM: Bool
        switch o.values["--generator-cbam"] {
        case nil: generatorCBAM = TrainingRun.defaultGeneratorCBAM
        case "on": generatorCBAM = true
        case "off": generatorCBAM = false
        case let other?: fail("--generator-cbam takes on or off, got '\(other)'", code: 2)
        }
        let cbamReduction = o.integer("--cbam-reduction", default: TrainingRun.defaultCBAMReduction)
        guard (1...ModelConfig.maxWidth).contains(cbamReduction) else { fail("--cbam-reduction takes 1...\(ModelConfig.maxWidth)", code: 2) }
        let gateName = o.values["--cbam-gate"] ?? TrainingRun.defaultCBAMGate.rawValue
        guard let cbamGate = CBAMGate(rawValue: gateName) else {
            fail("--cbam-gate takes \(CBAMGate.allCases.map(\.rawValue).joined(separator: " or ")), got '\(gateName)'", code: 2)
        }
        if o.values["--threads"] != nil { try Threads.set(o.integer("--threads", default: 0)) }
        // Under mpirun/srun with several ranks: data-parallel training; rank 0 writes everything.
        // Left with MPI_Finalize by main after a normal return; any failure aborts the job (fail).
        let group = try MPIProcessGroup.joinIfLaunched()
        let lead = (group?.rank ?? 0) == 0
        func say(_ line: String) { if lead { print(line) } }
        if let group, batch < group.size { fail("--batch \(batch) is smaller than the \(group.size) ranks; each rank needs at least one row", code: 2) }
        let dir = o.values["--checkpoint-dir"]
        if let dir, lead { try FileIO.makeDirectory(dir) }
        let checkpointPath = dir.map { "\($0)/checkpoint.safetensors" }
        let index = try datasetIndex(o, voices: voices, faces: faces)
        let cache = try FeatureCache(directory: o.values["--cache"] ?? FeatureCache.defaultDirectory)
        say("feature cache: \(cache.directory)")
        let tty = lead && isatty(STDERR_FILENO) == 1
        let loading: (Int, Int) -> Void = { done, total in if tty { fputs("\rloading data \(done)/\(total)\u{1B}[K", stderr) } }
        let run: TrainingRun
        if flags.contains("--resume") {
            guard let checkpointPath, access(checkpointPath, R_OK) == 0 else { fail("--resume needs --checkpoint-dir D holding checkpoint.safetensors") }
            run = try TrainingRun(checkpoint: try TrainingCheckpoint(bytes: try FileIO.read(checkpointPath)), index: index,
                                  cache: cache, batchSize: batch, progress: loading)
            // The checkpoint decides the recipe; a gate asked for explicitly must be the one it was made with.
            if o.values["--cbam-gate"] != nil, run.config.arch.hasCBAM, run.config.cbamGate != cbamGate {
                fail("--cbam-gate \(cbamGate.rawValue), but the checkpoint was trained with the \(run.config.cbamGate.rawValue) gate (a resumed run keeps its checkpoint's)", code: 2)
            }
        } else {
            run = try TrainingRun(arch: arch, widths: widths, voiceEncoderFile: encoder, index: index, cache: cache,
                                  batchSize: batch, seed: seed, generatorSpectralNorm: generatorSN,
                                  generatorCBAM: generatorCBAM, cbamReduction: cbamReduction, cbamGate: cbamGate,
                                  healthWarmUp: warmUp, progress: loading)
        }
        if tty { fputs("\r\u{1B}[K", stderr) }
        if let group {
            try run.distribute(over: group, fingerprint: TrainCommand.fingerprint(index))
            say("data-parallel over \(group.size) ranks (MPI, \(group.library)): each step's batch of \(batch) is shared out, \(BatchSlice.rows(batch: batch, rank: 0, size: group.size).count) rows on rank 0")
        }
        let samples = lead && dir != nil && samplesEvery > 0 ? try TrainingSamples(index: index, cache: cache) : nil
        if samples != nil { try FileIO.makeDirectory("\(dir!)/samples") }
        func drawSamples() throws {
            guard let samples, let dir, !samples.features.isEmpty else { return }
            let model = try Model(bytes: try run.checkpoint().exportModel())
            let digits = String(run.step), padded = String(repeating: "0", count: max(0, 6 - digits.count)) + digits
            try FileIO.write(try samples.png(model: model, step: run.step), to: "\(dir)/samples/step-\(padded).png")
        }
        signal(SIGINT) { _ in stopRequested = 1 }
        signal(SIGTERM) { _ in stopRequested = 1 }
        var log: [UInt8] = []
        let logPath = o.values["--log"] ?? dir.map { "\($0)/train.jsonl" }
        if flags.contains("--resume"), let logPath, let old = try? FileIO.read(logPath) { log = old }
        func save() throws {
            guard lead else { return }
            if let checkpointPath { try FileIO.write(try run.checkpoint().serialize(), to: checkpointPath) }
            if let logPath { try FileIO.write(log, to: logPath) }
        }
        let start = Bench.now(), first = run.step
        let stopOnCollapse = flags.contains("--stop-on-collapse")
        // The step of the last checkpoint written before a stopping warning (a resumed run's own).
        var lastGood = flags.contains("--resume") && !run.health.raised.contains(where: { $0.warning.stopsRun }) ? run.step : nil as Int?
        say("training \(run.config.arch.rawValue) (\(widths.rawValue) widths) on \(index.train.count) identities, batch \(batch), steps \(run.step)..<\(steps)")
        // A stop request (Ctrl-C, SIGTERM) reaches the ranks at different moments: they agree on it
        // before each step, so all stop after the same step.
        func stopAgreed() throws -> Bool {
            guard let group else { return stopRequested != 0 }
            var flag: [Float] = [stopRequested != 0 ? 1 : 0]
            try flag.withUnsafeMutableBufferPointer { try group.sum($0.baseAddress!, count: 1) }
            if flag[0] > 0 { stopRequested = 1 }
            return flag[0] > 0
        }
        while run.step < steps, try !stopAgreed() {
            let warningsBefore = run.health.raised.count
            let losses = try run.next()
            let rate = Double(run.step - first) / max(Bench.now() - start, 1e-9)
            let names = TrainingRun.lossNames
            let fields = zip(names, losses).map { "\"\($0)\": \($1)" }.joined(separator: ", ")
            let warnings = run.health.warnings.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
            log += Array("{\"step\": \(run.step), \(fields), \"spread\": \(run.lastSpread), \"warnings\": [\(warnings)], \"steps_per_second\": \(fixed(rate, 3))}\n".utf8)
            if tty {
                let eta = Double(steps - run.step) / max(rate, 1e-9)
                let warn = run.health.isHealthy ? "" : "  WARNING: " + run.health.warnings.map(\.rawValue).joined(separator: ", ")
                fputs("\rstep \(run.step)/\(steps)  \(fixed(rate, 2)) steps/s  ETA \(Int(eta)) s  " + zip(names, losses).map { "\($0) \(fixed(Double($1), 3))" }.joined(separator: " ") + warn + "\u{1B}[K", stderr)
            }
            if run.health.raised.count > warningsBefore {
                if tty { fputs("\n", stderr) }
                for (w, at) in run.health.raised.dropFirst(warningsBefore) where lead { fputs("avpgan train: WARNING at step \(at): \(w.rawValue): \(w.meaning)\n", stderr) }
                if stopOnCollapse && run.health.raised.dropFirst(warningsBefore).contains(where: { $0.warning.stopsRun }) {
                    // Keep the last checkpoint written while the run was healthy; write the log.
                    if let logPath, lead { try FileIO.write(log, to: logPath) }
                    let kept = checkpointPath.map { path in lastGood.map { " The last healthy checkpoint, step \($0), is kept in \(path)." } ?? " No healthy checkpoint was written; \(path) is left as it was." } ?? ""
                    say("stopped at step \(run.step) (--stop-on-collapse): \(run.health.summary).\(kept) No model was written (docs/training-design.md, \"Training health\").")
                    return 3
                }
            }
            if run.step % every == 0 {
                try save()
                if !run.health.raised.contains(where: { $0.warning.stopsRun }) { lastGood = run.step }
            }
            if samplesEvery > 0 && run.step % samplesEvery == 0 { try drawSamples() }
        }
        if tty { fputs("\n", stderr) }
        try save()
        if !run.health.isHealthy { say("WARNING: \(run.health.summary)") }
        if let group, run.step > first {
            let seconds = Bench.now() - start, stepsDone = Double(run.step - first)
            say("data-parallel: \(group.size) ranks, \(fixed(stepsDone / seconds, 3)) steps/s, communication (with waiting) \(fixed(1000 * group.communicationSeconds / stepsDone, 2)) ms per step on rank 0, \(fixed(100 * group.communicationSeconds / seconds, 1)) % of its time, \(run.reducedFloatsPerStep * 4) gradient bytes per step")
        }
        if stopRequested != 0 {
            say("stopped at step \(run.step); resume with --resume\(checkpointPath == nil ? " (no --checkpoint-dir was given: progress is lost)" : "")")
            return 130
        }
        if lead { try FileIO.write(try run.checkpoint().exportModel(), to: output) }
        say("wrote \(output) after \(run.step) steps")
        return 0
    }

    static func existing(_ path: String) -> String? { access(path, R_OK) == 0 ? path : nil }

    /// What must be the same on every rank of a data-parallel run besides the trainer's own
    /// state: the command line and the data set as each rank sees it.
    static func fingerprint(_ index: DatasetIndex) -> String {
        var parts = CommandLine.arguments
        for (split, identities) in [("train", index.train), ("validation", index.validation), ("test", index.test)] {
            for i in identities { parts.append("\(split):\(i.name):\(i.voices.joined(separator: ",")):\(i.faces.joined(separator: ","))") }
        }
        return parts.joined(separator: "\u{1}")
    }

    /// The data set's identities: joined through `--meta` when given (the VoxCeleb layout), split
    /// by `--split-rule`, by `--test-list F`, or by the data set's own `VOICES/../test.txt`; with
    /// `--meta` and no list, by the paper's initial-letter rule.
    static func datasetIndex(_ o: Options, voices: String, faces: String?) throws -> DatasetIndex {
        let meta = try o.values["--meta"].map { try VoxCelebMeta(path: $0) }
        let list = o.values["--test-list"]
        let rule: DatasetIndex.SplitRule
        switch o.values["--split-rule"] ?? (meta != nil && list == nil ? "initial-letter" : nil) {
        case nil: rule = .heldOutList(list ?? existing("\(voices)/../test.txt"))
        case let named?:
            guard list == nil else { fail("--split-rule and --test-list exclude each other", code: 2) }
            switch named {
            case "initial-letter": rule = .initialLetter
            case "corpus-set":
                guard meta != nil else { fail("--split-rule corpus-set needs --meta (the table's Set column)", code: 2) }
                rule = .corpusSet
            default: fail("--split-rule takes initial-letter or corpus-set, got '\(named)'", code: 2)
            }
        }
        return try DatasetIndex(voices: voices, faces: faces, meta: meta, split: rule)
    }
}
