import AVPGANCore
#if canImport(Glibc)
import Glibc
#endif

/// `avpgan evaluate`: does a model's face of a recording resemble its speaker? For every
/// recording of the chosen identities (the held-out ones by default) the model makes a face
/// (whole-utterance features from the feature cache, no noise); that face is ranked by pixel
/// distance against one mean picture per identity (`FaceRetrieval`). Prints top-1/top-5
/// accuracy and mean rank beside chance, and the same for real pictures of the speakers (the
/// ceiling of this metric on the data set).
enum EvaluateCommand {
    static func run(_ o: Options) throws -> Int32 {
        guard let modelPath = o.values["--model"] else { fail("evaluate needs --model MODEL", code: 2) }
        guard let voices = o.values["--voices"], let faces = o.values["--faces"] else { fail("evaluate needs --voices DIR --faces DIR", code: 2) }
        let split = o.values["--split"] ?? "test"
        guard ["test", "validation", "train"].contains(split) else { fail("--split takes test, validation or train", code: 2) }
        if o.values["--threads"] != nil { try Threads.set(o.integer("--threads", default: 0)) }
        let model = try Model(path: modelPath)
        let index = try TrainCommand.datasetIndex(o, voices: voices, faces: faces)
        let identities = split == "test" ? index.test : (split == "validation" ? index.validation : index.train)
        guard identities.count >= 2 else {
            fail("the \(split) split has \(identities.count) identities with voices and faces; retrieval needs at least 2 (give --test-list or --split train)")
        }
        let cache = try FeatureCache(directory: o.values["--cache"] ?? FeatureCache.defaultDirectory)
        print("feature cache: \(cache.directory)")
        let size = model.imageSize, floats = model.imageFloats, e = model.embedDim
        let gallery = try FaceRetrieval(faces: try identities.map { try $0.faces.map { try FaceImage.load($0, size: size) } }, faceFloats: floats)

        // One embedding per recording with speech.
        var embeddings: [Float] = [], owners: [Int] = []
        var one = [Float](repeating: 0, count: e)
        for (i, identity) in identities.enumerated() {
            for path in identity.voices {
                let features: (values: [Float], frames: Int)
                do { features = try cache.features(path) } catch let error as AVPGANError where error.kind == .noSpeech { continue }
                try model.embed(features: features.values, frames: features.frames, melBands: 64, into: &one)
                embeddings += one
                owners.append(i)
            }
        }
        guard !owners.isEmpty else { fail("no recording of the \(split) identities has speech") }
        var generated = [Float](repeating: 0, count: owners.count * floats)
        try model.generate(embeddings: embeddings, count: owners.count, embedDim: e, into: &generated)
        let rankings = generated.withUnsafeBufferPointer { g in
            owners.enumerated().map { gallery.rank(g.baseAddress! + $0.offset * floats, identity: $0.element) }
        }
        let result = FaceRetrieval.Summary(rankings, identities: identities.count)
        var real: [FaceRetrieval.Ranking] = []
        for (i, identity) in identities.enumerated() {
            for path in identity.faces { real.append(gallery.rank(try FaceImage.load(path, size: size), identity: i)) }
        }
        let ceiling = FaceRetrieval.Summary(real, identities: identities.count)

        print("""
        \(split) identities: \(identities.count), recordings: \(owners.count)
                          top-1    top-5    mean rank
        generated faces   \(pct(result.top1))   \(pct(result.top5))   \(fixed(result.meanRank, 2))
        chance            \(pct(result.chanceTop1))   \(pct(result.chanceTop5))   \(fixed(result.chanceMeanRank, 2))
        real pictures     \(pct(ceiling.top1))   \(pct(ceiling.top5))   \(fixed(ceiling.meanRank, 2))
        """)
        if let json = o.values["--json"] {
            let text = """
            {"model": \(JSON.quote(modelPath)), "split": "\(split)", "identities": \(identities.count), "recordings": \(owners.count), \
            "top1": \(result.top1), "top5": \(result.top5), "mean_rank": \(result.meanRank), \
            "chance_top1": \(result.chanceTop1), "chance_top5": \(result.chanceTop5), "chance_mean_rank": \(result.chanceMeanRank), \
            "real_top1": \(ceiling.top1), "real_top5": \(ceiling.top5), "real_mean_rank": \(ceiling.meanRank)}

            """
            try FileIO.write(Array(text.utf8), to: json)
        }
        if let grid = o.values["--grid"] {
            // One row per identity (up to 16): its mean picture, then up to 7 generated faces.
            var tiles: [Float] = []
            let perRow = 1 + min(7, identities.map(\.voices.count).max() ?? 1)
            for i in 0..<min(identities.count, 16) {
                tiles += gallery.gallery[(i * floats)..<((i + 1) * floats)]
                let mine = owners.indices.filter { owners[$0] == i }.prefix(perRow - 1)
                for k in mine { tiles += generated[(k * floats)..<((k + 1) * floats)] }
                tiles += [Float](repeating: 1, count: (perRow - 1 - mine.count) * floats)
            }
            try FileIO.write(try FaceGrid.png(tiles, count: tiles.count / floats, size: size, columns: perRow,
                                              text: [("Comment", "avpgan evaluate: per row, the identity's mean picture, then faces from its recordings")]),
                             to: grid)
            print("wrote \(grid)")
        }
        return 0
    }

    static func pct(_ x: Double) -> String {
        let s = fixed(100 * x, 1) + "%"
        return String(repeating: " ", count: max(0, 6 - s.count)) + s
    }
}
