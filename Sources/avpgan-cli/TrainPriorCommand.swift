import AVPGANCore
#if canImport(Glibc)
import Glibc
#endif

/// `avpgan train-prior`: parses the options and runs a `PriorTrainingSession` (basicsr's
/// StyleGAN2 training on a face folder, with checkpoints, resume, sample sheets and a JSONL
/// log), with Ctrl-C and progress on the terminal (`TrainingConsole`); writes the EMA generator
/// as a face-prior file for `train-enhancer --prior`. Under mpirun/srun with several ranks it
/// trains data-parallel (`PriorTrainingStep+DataParallel`): rank 0 prints and writes.
enum TrainPriorCommand {
    /// Options that describe a new run; a resumed run takes them from its checkpoint (and says so).
    static let recipeOptions = ["--size", "--widths", "--lr", "--seed"]

    static func run(_ o: Options, flags: Set<String>) throws -> Int32 {
        let console = try TrainingConsole()
        console.silenceFollowers()
        let (faces, output) = FaceTrainingOptions.facesAndOutput(o, command: "train-prior", file: "PRIOR.safetensors")
        var options = PriorTrainingSession.Options()
        options.readSchedule(o, flags: flags)
        options.batchSize = FaceTrainingOptions.batch(o)
        options.sheetSamples = o.integer("--samples", default: 16)
        guard options.steps >= 0, options.batchSize.map({ (1...4096).contains($0) }) ?? true, options.checkpointEvery >= 1,
              (0...256).contains(options.sheetSamples) else {
            fail("--steps >= 0, --batch 1...4096, --checkpoint-every >= 1, --samples 0...256", code: 2)
        }
        if let text = o.values["--truncation"] {
            guard let psi = Float(text), psi.isFinite else { fail("--truncation takes a number (1: none), got '\(text)'", code: 2) }
            options.truncation = psi
        }
        var recipe = PriorTrainingSession.Recipe()
        FaceTrainingOptions.checkResume(o, options: options, recipeOptions: recipeOptions, checkpointName: PriorTrainingSession.checkpointName,
                                        code: 1)
        recipe.size = FaceTrainingOptions.size(o) ?? recipe.size
        recipe.widths = FaceTrainingOptions.widths(o)
        recipe.lr = FaceTrainingOptions.number(o, "--lr", in: 0...1e30)
        recipe.seed = UInt64(truncatingIfNeeded: o.integer("--seed", default: 1))
        if o.values["--threads"] != nil { try Threads.set(o.integer("--threads", default: 0)) }

        let session = try PriorTrainingSession(faces: faces, options: options, recipe: recipe, reducer: console.group,
                                               fingerprint: CommandLine.arguments.joined(separator: "\u{1}"))
        console.sayShared(prior: session)
        let c = session.config, first = session.step
        print("training a \(c.outSize) px face prior (num_style_feat \(c.styleDim), num_mlp \(c.mlpLayers), channel_multiplier \(c.channelMultiplier), narrow \(c.narrow)) on \(session.faces.training.count) faces, batch \(session.batchSize), steps \(first)..<\(options.steps)")
        fflush(stdout)
        TrainingConsole.stopOnSignals()
        let start = Bench.now()
        let shown = ["l_d", "l_g", "real_score", "fake_score"]
        let outcome = try session.train(onStep: { r in
            if console.tty {
                let losses = shown.compactMap { name in r.losses[name].map { "\(name) \(fixed(Double($0), 4))" } }.joined(separator: " ")
                fputs(TrainingConsole.progress(step: r.step, of: r.steps, stepsPerSecond: r.stepsPerSecond) + losses + "\u{1B}[K", stderr)
            }
        }, shouldStop: { stopRequested != 0 })
        if console.tty { fputs("\n", stderr) }
        console.sayCommunication(since: start, first: first, step: session.step, reducedFloats: session.reducedFloatsPerStep, reduced: "bytes reduced")
        return try console.finish(outcome, command: "train-prior", file: "prior", step: session.step, checkpointPath: session.checkpointPath) {
            try session.export(to: output)
            print("wrote \(output) after \(session.step) steps\(session.checkpointPath == nil ? "" : "; sample sheets in \(options.checkpointDirectory!)/\(PriorTrainingSession.samplesFolder)")")
        }
    }
}
