import AVPGANCore
#if canImport(Glibc)
import Glibc
#endif

/// `avpgan pixel-retrieval` (alias `evaluate`): parses the options, runs
/// `PixelRetrievalEvaluation` on the chosen split (the held-out identities by default) and
/// prints top-1/top-5 accuracy and mean rank beside chance and the real-picture ceiling.
/// Under mpirun/srun the ranks share the recordings and rank 0 prints and writes the result.
enum EvaluateCommand {
    static func run(_ o: Options) throws -> Int32 {
        guard let modelPath = o.values["--model"] else { fail("evaluate needs --model MODEL", code: 2) }
        guard let voices = o.values["--voices"], let faces = o.values["--faces"] else { fail("evaluate needs --voices DIR --faces DIR", code: 2) }
        let split = o.values["--split"] ?? "test"
        guard ["test", "validation", "train"].contains(split) else { fail("--split takes test, validation or train", code: 2) }
        if o.values["--threads"] != nil { try Threads.set(o.integer("--threads", default: 0)) }
        // Several ranks (mpirun/srun): any failure ends the job (fail); main leaves MPI after a return.
        let group = try MPIProcessGroup.joinIfLaunched()
        let model = try Model(path: modelPath)
        let index = try DatasetOptions.index(o, voices: voices, faces: faces)
        let identities = index.identities(in: EvaluationSplit(rawValue: split)!)
        guard identities.count >= 2 else {
            fail("the \(split) split has \(identities.count) identities with voices and faces; retrieval needs at least 2 (give --test-list or --split train)")
        }
        let cache = try FeatureCache(directory: o.values["--cache"] ?? FeatureCache.defaultDirectory)
        if (group?.rank ?? 0) == 0 { print("feature cache: \(cache.directory)") }
        let evaluation: PixelRetrievalEvaluation
        do {
            if let group {
                try RankAgreement.require(FaceEvalCommand.fingerprint(identities, models: [model], faceModel: nil), reducer: group,
                                          what: "the ranks were started with different arguments, data or models")
                guard let result = try PixelRetrievalEvaluation.distributed(model: model, identities: identities, cache: cache,
                                                                            reducer: group) else { return 0 }
                evaluation = result
            } else {
                evaluation = try PixelRetrievalEvaluation(model: model, identities: identities, cache: cache)
            }
        } catch let error as AVPGANError where error.kind == .noSpeech {
            fail("no recording of the \(split) identities has speech")
        }
        let result = evaluation.generated, ceiling = evaluation.realPictures
        print("""
        \(split) identities: \(identities.count), recordings: \(evaluation.recordings)
                          top-1    top-5    mean rank
        generated faces   \(pct(result.top1))   \(pct(result.top5))   \(fixed(result.meanRank, 2))
        chance            \(pct(result.chanceTop1))   \(pct(result.chanceTop5))   \(fixed(result.chanceMeanRank, 2))
        real pictures     \(pct(ceiling.top1))   \(pct(ceiling.top5))   \(fixed(ceiling.meanRank, 2))
        """)
        if let json = o.values["--json"] { try FileIO.write(Array(evaluation.json(model: modelPath, split: split).utf8), to: json) }
        if let grid = o.values["--grid"] {
            try FileIO.write(try evaluation.gridPNG(), to: grid)
            print("wrote \(grid)")
        }
        return 0
    }

    static func pct(_ x: Double) -> String {
        let s = fixed(100 * x, 1) + "%"
        return String(repeating: " ", count: max(0, 6 - s.count)) + s
    }
}
