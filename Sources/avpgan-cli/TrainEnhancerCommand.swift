import AVPGANCore
#if canImport(Glibc)
import Glibc
#endif

/// `avpgan train-enhancer`: parses the options and runs an `EnhancerTrainingSession` (GFPGAN's
/// training loop on a face folder, with checkpoints, resume, validation against bicubic,
/// sample sheets and a JSONL log), with Ctrl-C and progress on the terminal; writes the EMA
/// generator as an enhancer file.
enum TrainEnhancerCommand {
    /// Options that describe a new run; a resumed run takes all of them from its checkpoint (and
    /// says so when they are given, so that the first command line can be run again with --resume).
    static let recipeOptions = ["--init", "--prior", "--size", "--widths", "--channel-multiplier", "--narrow", "--losses", "--degradation",
                                "--lr", "--betas", "--ema-decay", "--seed",
                                "--validation-fraction"]

    static func run(_ o: Options, flags: Set<String>) throws -> Int32 {
        let console = try TrainingConsole()  // under mpirun/srun with several ranks: data-parallel, rank 0 prints and writes
        console.silenceFollowers()
        let (faces, output) = FaceTrainingOptions.facesAndOutput(o, command: "train-enhancer", file: "ENHANCER.safetensors")
        var options = EnhancerTrainingSession.Options()
        options.readSchedule(o, flags: flags)
        options.batchSize = FaceTrainingOptions.batch(o)
        guard options.steps >= 0, options.batchSize.map({ (1...4096).contains($0) }) ?? true, options.checkpointEvery >= 1 else {
            fail("--steps >= 0, --batch 1...4096, --checkpoint-every >= 1", code: 2)
        }
        var recipe = EnhancerTrainingSession.Recipe()
        FaceTrainingOptions.checkResume(o, options: options, recipeOptions: recipeOptions, checkpointName: EnhancerTrainingSession.checkpointName)
        recipe.size = FaceTrainingOptions.size(o) ?? recipe.size
        recipe.widths = FaceTrainingOptions.widths(o)
        if o.values["--init"] != nil, let given = ["--widths", "--channel-multiplier", "--narrow"].first(where: { o.values[$0] != nil }) {
            fail("\(given) shapes a new enhancer; --init fine-tunes one of its own shape (leave \(given) out)", code: 2)
        }
        if o.values["--init"] != nil && o.values["--prior"] != nil {
            fail("--prior starts a new enhancer's decoder, --init fine-tunes a whole enhancer: give one of them", code: 2)
        }
        recipe.channelMultiplier = FaceTrainingOptions.number(o, "--channel-multiplier", in: 1e-3...64)
        recipe.narrow = FaceTrainingOptions.number(o, "--narrow", in: 1e-3...64)
        recipe.lr = FaceTrainingOptions.number(o, "--lr", in: 0...1e30)
        recipe.emaDecay = FaceTrainingOptions.number(o, "--ema-decay", in: 0...1)
        if let text = o.values["--betas"] {
            let b = text.split(separator: ",").map { Double(String($0).trimmingWhitespace) }
            guard b.count == 2, let b1 = b[0], let b2 = b[1], (0..<1).contains(b1), (0..<1).contains(b2) else {
                fail("--betas takes B1,B2, each in [0, 1), got '\(text)'", code: 2)
            }
            recipe.generatorBetas = (b1, b2)
        }
        recipe.validationFraction = FaceTrainingOptions.number(o, "--validation-fraction", in: 0...0.99) ?? recipe.validationFraction
        recipe.initPath = o.values["--init"]
        recipe.priorPath = o.values["--prior"]
        recipe.faceModelPath = o.values["--face-model"]
        recipe.perceptualPath = o.values["--perceptual"]
        if let text = o.values["--losses"] { recipe.losses = try EnhancerLossWeights(parsing: text) }
        if let text = o.values["--degradation"] { recipe.degradation = try FaceDegradation(parsing: text) }
        recipe.seed = UInt64(truncatingIfNeeded: o.integer("--seed", default: 1))
        if o.values["--threads"] != nil { try Threads.set(o.integer("--threads", default: 0)) }

        let session = try EnhancerTrainingSession(faces: faces, options: options, recipe: recipe, reducer: console.group,
                                                  fingerprint: CommandLine.arguments.joined(separator: "\u{1}"))
        console.sayShared(enhancer: session)
        for note in session.notes { print("note: \(note)") }
        let c = session.config, first = session.step
        print("training a \(c.outSize) px enhancer (num_style_feat \(c.styleDim), channel_multiplier \(c.channelMultiplier), narrow \(c.narrow)\((recipe.initPath ?? recipe.priorPath.map { "decoder of " + $0 }).map { ", from \($0)" } ?? "")) on \(session.faces.training.count) faces (\(session.faces.validation.count) held out), batch \(session.batchSize), steps \(first)..<\(options.steps)")
        print("losses: " + session.losses.enabledTerms.map { "\($0.rawValue) \(session.losses[$0])" }.joined(separator: ", "))
        fflush(stdout)  // seen before the first validation when the output goes to a file
        TrainingConsole.stopOnSignals()
        let tty = console.tty, start = Bench.now()
        let shown = ["l_g_pix", "l_g_percep", "l_g_gan", "l_identity", "l_d"]
        let outcome = try session.train(onStep: { r in
            if tty {
                let losses = shown.compactMap { name in r.losses[name].map { "\(name) \(fixed(Double($0), 4))" } }.joined(separator: " ")
                fputs(TrainingConsole.progress(step: r.step, of: r.steps, stepsPerSecond: r.stepsPerSecond) + losses + "\u{1B}[K", stderr)
            }
            if let v = r.validation {
                if tty { fputs("\n", stderr) }
                print("step \(r.step): held-out PSNR \(fixed(v.enhancerPSNR, 2)) dB, SSIM \(fixed(v.enhancerSSIM, 4)); bicubic \(fixed(v.bicubicPSNR, 2)) dB, \(fixed(v.bicubicSSIM, 4)); gain \(fixed(v.gain, 2)) dB (\(v.faces) face\(v.faces == 1 ? "" : "s"))")
                fflush(stdout)
            }
        }, shouldStop: { stopRequested != 0 })
        if tty { fputs("\n", stderr) }
        console.sayCommunication(since: start, first: first, step: session.step, reducedFloats: session.reducedFloatsPerStep, reduced: "bytes reduced")
        return try console.finish(outcome, command: "train-enhancer", file: "enhancer", step: session.step, checkpointPath: session.checkpointPath) {
            try session.export(to: output)
            print("wrote \(output) after \(session.step) steps")
        }
    }
}
