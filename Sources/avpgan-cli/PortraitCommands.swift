import AVPGANCore
#if canImport(Glibc)
import Glibc
#endif

/// `avpgan portrait` and `avpgan features`.
enum PortraitCommands {
    /// Front-end options from `--seconds S`, `--no-vad`, `--vad-mode M`.
    static func frontEnd(_ o: Options, flags: Set<String>) -> FrontEndOptions {
        var f = FrontEndOptions()
        if let s = o.values["--seconds"] {
            guard let v = Double(s), v > 0, v.isFinite else { fail("--seconds takes a positive number, got '\(s)'", code: 2) }
            f.seconds = v
        }
        f.vad = !flags.contains("--no-vad")
        if o.values["--vad-mode"] != nil {
            let m = o.integer("--vad-mode", default: 2)
            guard (0...3).contains(m) else { fail("--vad-mode takes 0, 1, 2 or 3", code: 2) }
            f.vadMode = m
        }
        return f
    }

    static func portrait(_ o: Options, flags: Set<String>, defaultModel: DefaultFile.Lookup) throws -> Int32 {
        guard let modelPath = o.values["--model"] ?? defaultModel.path else {
            fail("portrait needs --model MODEL: \(defaultModel.notFoundMessage)", code: 2)
        }
        guard !o.positional.isEmpty else { fail("portrait needs at least one VOICE file or directory", code: 2) }
        var options = PortraitOptions(frontEnd: frontEnd(o, flags: flags))
        if let p = o.values["--pixels"] {
            guard let m = PixelMapping(rawValue: p) else { fail("--pixels takes clamp or minmax, got '\(p)'", code: 2) }
            options.pixels = m
        }
        if let n = o.values["--noise"] {
            guard let v = Float(n), v >= 0, v <= 10 else { fail("--noise takes a number in 0...10, got '\(n)'", code: 2) }
            options.noise = v
            options.seed = UInt64(truncatingIfNeeded: o.integer("--seed", default: 0))
        }
        if o.values["--threads"] != nil { try Threads.set(o.integer("--threads", default: 0)) }
        let inputs = BatchRunner.inputs(o.positional)
        guard !inputs.isEmpty else { fail("no audio files found in \(o.positional.joined(separator: ", "))") }
        let single = o.values["-o"]
        if single != nil && (inputs.count > 1 || o.values["--out-dir"] != nil) {
            fail("-o names one output; use --out-dir DIR for \(inputs.count) inputs", code: 2)
        }
        let outDir = o.values["--out-dir"] ?? "."
        if o.values["--out-dir"] != nil { BatchRunner.makeOutputDirectory(outDir) }
        options.timestamp = flags.contains("--timestamp")
        var pipeline = try PortraitPipeline(model: try Model(path: modelPath), options: options)
        if let given = o.values["--enhance"] {
            let lookup = DefaultFile.enhancer.locate(anchor: DefaultFile.executablePath())
            guard let path = given.isEmpty ? lookup.path : given else { fail("portrait --enhance: \(lookup.notFoundMessage)", code: 2) }
            pipeline.options.enhancer = try Enhancer(path: path)
        }
        let outputs = BatchRunner.outputs(for: inputs, single: single, outDir: outDir)
        let overwrite = flags.contains("--overwrite")
        // Under mpirun or srun, each copy takes its share of the files (every size-th one).
        let launcher = LauncherRank.fromEnvironment()
        let mine = inputs.indices.filter { launcher.owns($0) }
        let verb = launcher.size > 1 ? "rank \(launcher.rank) of \(launcher.size) portrayed" : "portrayed"
        let failed = BatchRunner.run(mine.map { inputs[$0] }, verb: verb) { k, input in
            let output = outputs[mine[k]]
            if let note = BatchRunner.existingOutputNote(output, overwrite: overwrite) { return "\(input): \(note)" }
            var used = 0.0
            let png = try pipeline.png(voicePath: input) { used = $0.features.voicedSeconds }
            try FileIO.write(png, to: output)
            return "\(input) -> \(output) (\(fixed(used, 2)) s of voice)"
        }
        return failed > 0 ? 1 : 0
    }

    static func features(_ o: Options, flags: Set<String>) throws -> Int32 {
        guard o.positional.count == 1 else { fail("features takes one VOICE file", code: 2) }
        guard let out = o.values["-o"] else { fail("features needs -o FEATURES.npy", code: 2) }
        let input = o.positional[0]
        if let note = BatchRunner.existingOutputNote(out, overwrite: flags.contains("--overwrite")) { print(note); return 0 }
        let f = try FrontEnd.features(path: input, options: frontEnd(o, flags: flags))
        try FileIO.write(NPY.write(f.values, shape: [f.frames, LogMelExtractor.bands]), to: out)
        print("\(input) -> \(out) (\(f.frames) x \(LogMelExtractor.bands) from \(fixed(f.voicedSeconds, 2)) s of \(fixed(f.inputSeconds, 2)) s)")
        return 0
    }
}
