import AVPGANCore
#if canImport(Glibc)
import Glibc
#endif

/// `avpgan eval`: parses the options and runs the paper's Table 4 protocol
/// (`FaceSimilarityEvaluation`, reported by `FaceSimilarityReport`) for one or more models at
/// several voice lengths: Markdown on stdout; Markdown, CSV, JSON and the figures in `-o`.
/// Under mpirun/srun the ranks share the recordings and rank 0 writes the same report.
enum FaceEvalCommand {
    static func run(_ o: Options) throws -> Int32 {
        let models = o.all["--model"] ?? []
        guard !models.isEmpty else { fail("eval needs at least one --model MODEL", code: 2) }
        guard let voices = o.values["--voices"], let faces = o.values["--faces"] else { fail("eval needs --voices DIR --faces DIR", code: 2) }
        guard let facePath = o.values["--face-model"] else {
            fail("eval needs --face-model F.safetensors (a face-recognition network; tools/converters/convert_face.py makes one)", code: 2)
        }
        let seconds = try parseSeconds(o.values["--seconds"] ?? "2,4,6,8")
        let outDir = o.values["-o"] ?? "eval"
        let rows = o.integer("--rows", default: 8)
        guard rows >= 1 else { fail("--rows takes a positive integer", code: 2) }
        if o.values["--threads"] != nil { try Threads.set(o.integer("--threads", default: 0)) }
        // Under mpirun or srun with several ranks: the recordings are shared out, rank 0 reports.
        // Any failure on any rank ends the job (fail); main leaves MPI cleanly after a return.
        let group = try MPIProcessGroup.joinIfLaunched()
        let lead = (group?.rank ?? 0) == 0
        let identities = try selectIdentities(o, voices: voices, faces: faces)
        let faceModel = try FaceModel(path: facePath)
        let loaded = try models.map { try Model(path: $0) }
        if lead { try FileIO.makeDirectory(outDir) }  // before the long part, so that a bad -o fails at once

        let terminal = lead && isatty(STDERR_FILENO) == 1
        let clock = ContinuousClock(), started = clock.now
        let count = loaded.count
        let realFaces: (Int, Int) -> Void = { done, total in if terminal { fputs("\rreal faces: \(done)/\(total)\u{1B}[K", stderr) } }
        let progress: @Sendable (Int, Int, Int) -> Void = { m, done, total in
            if terminal { fputs("\rmodel \(m + 1)/\(count): \(done)/\(total) portraits\u{1B}[K", stderr) }
        }
        let skipped: (String, String) -> Void = { path, why in
            if terminal { fputs("\r\u{1B}[K", stderr) }
            fputs("avpgan: skipped \(path): \(why)\n", stderr)
        }
        let report: FaceSimilarityReport
        if let group {
            try RankAgreement.require(fingerprint(identities, models: loaded, faceModel: faceModel), reducer: group,
                                      what: "the ranks were started with different arguments, data or models")
            guard let mine = try FaceSimilarityReport.distributed(models: models, loaded: loaded, identities: identities, faceModel: faceModel,
                                                                  facePath: facePath, seconds: seconds, reducer: group, realFaces: realFaces,
                                                                  progress: progress, skipped: skipped) else { return 0 }
            report = mine
        } else {
            let evaluation = try FaceSimilarityEvaluation(identities: identities, faceModel: faceModel, progress: realFaces)
            report = try FaceSimilarityReport(models: models, loaded: loaded, evaluation: evaluation, facePath: facePath, seconds: seconds,
                                              progress: progress, skipped: skipped)
        }
        if terminal { fputs("\r\u{1B}[K", stderr) }
        let elapsed = clock.now - started
        print(report.markdown(), terminator: "")
        try report.write(to: outDir, rows: rows)
        let ranks = group.map { " on \($0.size) ranks" } ?? ""
        print("wrote \(outDir)/eval.md, eval.csv, eval-recordings.csv, eval.json, grid.png, sweep-1..\(report.results.count).png (\(fixed(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18, 1)) s\(ranks))")
        return 0
    }

    /// What every rank of a distributed evaluation must hold alike: the command line, the
    /// identities with their files, and the models' and face model's SHA-256.
    static func fingerprint(_ identities: [DatasetIndex.Identity], models: [Model], faceModel: FaceModel?) -> String {
        var parts = CommandLine.arguments + models.map(\.sha256) + [faceModel?.sha256 ?? "-"]
        for i in identities { parts.append("\(i.name):\(i.voices.joined(separator: ",")):\(i.faces.joined(separator: ","))") }
        return parts.joined(separator: "\u{1}")
    }

    static func trimmed(_ s: Substring) -> String {
        String(s.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" || $0 == "\r" }.reversed())
    }

    /// "2,4,6,8" → [2, 4, 6, 8]; "all" stands for the whole voiced recording.
    static func parseSeconds(_ text: String) throws -> [Double?] {
        let items = text.split(separator: ",").map(trimmed)
        guard !items.isEmpty else { fail("--seconds takes a list like 2,4,6,8", code: 2) }
        return items.map { item in
            if item == "all" { return nil }
            guard let v = Double(item), v.isFinite, v > 0, v <= 3600 else {
                fail("--seconds takes positive lengths in seconds (or 'all'), got '\(item)'", code: 2)
            }
            return v
        }
    }

    /// The identities to evaluate: `--identities` (a file of names, one per line, or a comma
    /// list), else the `--split` of the data set (default test, as `evaluate`).
    static func selectIdentities(_ o: Options, voices: String, faces: String) throws -> [DatasetIndex.Identity] {
        let index = try DatasetOptions.index(o, voices: voices, faces: faces)
        let chosen: [DatasetIndex.Identity]
        if let spec = o.values["--identities"] {
            let names: [String]
            if access(spec, F_OK) == 0 {
                names = String(decoding: try FileIO.read(spec), as: UTF8.self).split(whereSeparator: \.isNewline)
                    .map(trimmed).filter { !$0.isEmpty && !$0.hasPrefix("#") }
            } else {
                names = spec.split(separator: ",").map(trimmed)
            }
            chosen = try index.identities(named: names, voices: voices, faces: faces)
        } else {
            let split = o.values["--split"] ?? "test"
            guard let subset = EvaluationSplit(rawValue: split) else { fail("--split takes test, validation, train or all, got '\(split)'", code: 2) }
            chosen = index.identities(in: subset)
        }
        guard chosen.count >= 2 else {
            fail("eval needs at least 2 identities with voices and faces, got \(chosen.count) (give --identities, or --split all)")
        }
        return chosen
    }
}
