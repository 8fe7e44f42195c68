/// The tables of a face-similarity evaluation (`avpgan eval`): Markdown (the paper's Table 4
/// with the baseline, the difference's interval and retrieval), a CSV row per model and
/// length, a CSV row per recording and length, and JSON with everything; `write(to:)` puts
/// them and the figures (`FaceSimilarityFigures`) into a folder.
public struct FaceSimilarityReport {
    /// The models' labels (their paths, for the CLI), in `loaded` order.
    public let models: [String]
    public let loaded: [Model]
    /// The real faces' embeddings and the identities.
    public let evaluation: FaceSimilarityEvaluation
    public let results: [FaceSimilarityEvaluation.ModelResult]
    public let reference: FaceSimilarityEvaluation.Summary
    /// The face model's label (its path, for the CLI).
    public let facePath: String
    /// The voice lengths asked; nil: the whole voiced recording.
    public let seconds: [Double?]
    public var identities: [DatasetIndex.Identity] { evaluation.identities }
    public var faceModel: FaceModel { evaluation.faceModel }

    /// Evaluates each of `loaded` (labelled by `models`) at each of `seconds`.
    /// `progress(model, done, total)` reports portraits made for the model at index `model`;
    /// `skipped(path, why)` names recordings without speech; `shouldStop` is asked before each
    /// model and stops with an `aborted` error.
    public init(models: [String], loaded: [Model], evaluation: FaceSimilarityEvaluation, facePath: String, seconds: [Double?],
                progress: @escaping @Sendable (Int, Int, Int) -> Void = { _, _, _ in },
                skipped: (String, String) -> Void = { _, _ in }, shouldStop: () -> Bool = { false }) throws {
        guard models.count == loaded.count, !loaded.isEmpty else {
            throw AVPGANError(.invalidArgument, "\(loaded.count) models with \(models.count) labels; expected at least one model, one label each")
        }
        guard !seconds.isEmpty else { throw AVPGANError(.invalidArgument, "no voice length to evaluate") }
        var results: [FaceSimilarityEvaluation.ModelResult] = []
        for (m, model) in loaded.enumerated() {
            if shouldStop() { throw AVPGANError(.aborted, "the evaluation was stopped after \(m) of \(loaded.count) models") }
            results.append(try evaluation.evaluate(model, seconds: seconds, progress: { progress(m, $0, $1) }, skipped: skipped))
        }
        try self.init(models: models, loaded: loaded, evaluation: evaluation, facePath: facePath, seconds: seconds, results: results)
    }

    /// The report of results already computed (`results[m]` of `loaded[m]` at `seconds`).
    public init(models: [String], loaded: [Model], evaluation: FaceSimilarityEvaluation, facePath: String, seconds: [Double?],
                results: [FaceSimilarityEvaluation.ModelResult]) throws {
        guard models.count == loaded.count, loaded.count == results.count, !loaded.isEmpty else {
            throw AVPGANError(.invalidArgument, "\(loaded.count) models with \(models.count) labels and \(results.count) results; expected one of each per model")
        }
        self.models = models
        self.loaded = loaded
        self.evaluation = evaluation
        self.results = results
        self.reference = evaluation.realFaceSummary()
        self.facePath = facePath
        self.seconds = seconds
    }

    /// Writes eval.md, eval.csv, eval-recordings.csv, eval.json, grid.png (up to `rows`
    /// identities) and sweep-<m>.png per model into the folder `directory` (created if missing).
    public func write(to directory: String, rows: Int) throws {
        try FileIO.makeDirectory(directory)
        try FileIO.write(Array(markdown().utf8), to: "\(directory)/eval.md")
        try FileIO.write(Array(csv().utf8), to: "\(directory)/eval.csv")
        try FileIO.write(Array(recordingsCSV().utf8), to: "\(directory)/eval-recordings.csv")
        try FileIO.write(Array(json().utf8), to: "\(directory)/eval.json")
        try FaceSimilarityFigures.grid(results: results, evaluation: evaluation, rows: rows, to: "\(directory)/grid.png")
        for (m, result) in results.enumerated() {
            try FaceSimilarityFigures.sweep(result: result, evaluation: evaluation, rows: rows, model: models[m], to: "\(directory)/sweep-\(m + 1).png")
        }
    }

    /// Short names for the models: file names, or whole paths where file names repeat.
    var labels: [String] {
        let names = models.map { $0.split(separator: "/").last.map(String.init) ?? $0 }
        return names.indices.map { i in names.filter { $0 == names[i] }.count > 1 ? models[i] : names[i] }
    }

    static func length(_ s: Double?) -> String { s.map { "\(fixed($0, $0 == $0.rounded() ? 0 : 1)) s" } ?? "all" }
    static func number(_ x: Double, _ digits: Int = 3) -> String { x.isFinite ? fixed(x, digits) : "n/a" }
    static func percent(_ x: Double) -> String { fixed(100 * x, 1) + " %" }
    static func json(_ x: Double) -> String { x.isFinite ? "\(x)" : "null" }

    public func markdown() -> String {
        let recordings = results.first?.recordings.count ?? 0
        var out = """
        # Face similarity of voice portraits (avpgan eval)

        Face model: \(faceModel.config.arch.rawValue), \(faceModel.embedDim)-d (`\(facePath)`, SHA-256 \(faceModel.sha256.prefix(16))…).
        \(identities.count) identities, \(recordings) recordings with speech. Cosine similarity of face embeddings:
        **own** with the speaker's real faces, **impostor** with the other identities' faces (the baseline a face
        unrelated to the voice scores), **difference** own − impostor with its 95 % confidence interval over speakers;
        **top-1/top-5**: the speaker's faces rank first / in the first five of \(identities.count) identities.
        **voice**: the length asked; **speech used**: the mean voiced seconds the portraits were made from (less
        where recordings hold less speech than asked).

        | model | arch | voice | speech used | recordings | own | impostor | difference [95 % CI] | top-1 | top-5 |
        |---|---|---|---|---|---|---|---|---|---|

        """
        for (m, result) in results.enumerated() {
            for (l, s) in result.summaries.enumerated() {
                out += "| \(labels[m]) | \(loaded[m].config.arch.rawValue) | \(Self.length(seconds[l])) | \(Self.number(s.voicedSeconds, 1)) s | \(s.recordings) | "
                    + "\(Self.number(s.own)) | \(Self.number(s.impostor)) | \(Self.number(s.difference)) "
                    + "[\(Self.number(s.differenceLow)), \(Self.number(s.differenceHigh))] | "
                    + "\(Self.percent(s.top1)) | \(Self.percent(s.top5)) |\n"
            }
        }
        let r = reference
        out += "| real faces (reference) | – | – | – | \(r.recordings) faces | \(Self.number(r.own)) | \(Self.number(r.impostor)) | "
            + "\(Self.number(r.difference)) [\(Self.number(r.differenceLow)), \(Self.number(r.differenceHigh))] | "
            + "\(Self.percent(r.top1)) | \(Self.percent(r.top5)) |\n"
        out += "| chance | – | – | – | – | – | – | 0 | \(Self.percent(1 / Double(identities.count))) | "
            + "\(Self.percent(min(5, Double(identities.count)) / Double(identities.count))) |\n"
        return out
    }

    public func csv() -> String {
        var out = "model,arch,seconds,voiced_seconds_mean,recordings,identities,own,impostor,difference,difference_ci95_low,difference_ci95_high,top1,top5\n"
        for (m, result) in results.enumerated() {
            for (l, s) in result.summaries.enumerated() {
                out += [csvField(models[m]), loaded[m].config.arch.rawValue, seconds[l].map { "\($0)" } ?? "all",
                        "\(s.voicedSeconds)", "\(s.recordings)", "\(s.identities)", "\(s.own)", "\(s.impostor)", "\(s.difference)",
                        "\(s.differenceLow)", "\(s.differenceHigh)", "\(s.top1)", "\(s.top5)"].joined(separator: ",") + "\n"
            }
        }
        return out
    }

    public func recordingsCSV() -> String {
        var out = "model,seconds,identity,recording,voiced_seconds,own,impostor,rank\n"
        for (m, result) in results.enumerated() {
            for (l, row) in result.scores.enumerated() {
                for s in row {
                    out += [csvField(models[m]), seconds[l].map { "\($0)" } ?? "all", csvField(identities[s.identity].name),
                            csvField(s.recording), "\(s.voicedSeconds)", "\(s.own)", "\(s.impostor)", "\(s.rank)"].joined(separator: ",") + "\n"
                }
            }
        }
        return out
    }

    func csvField(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + s.replacingAll("\"", with: "\"\"") + "\"" : s
    }

    public func json() -> String {
        func summary(_ s: FaceSimilarityEvaluation.Summary) -> String {
            "{\"recordings\": \(s.recordings), \"identities\": \(s.identities), \"own\": \(Self.json(s.own)), "
                + "\"impostor\": \(Self.json(s.impostor)), \"difference\": \(Self.json(s.difference)), "
                + "\"difference_ci95\": [\(Self.json(s.differenceLow)), \(Self.json(s.differenceHigh))], "
                + "\"top1\": \(s.top1), \"top5\": \(s.top5), \"voiced_seconds_mean\": \(Self.json(s.voicedSeconds)), \"chance_top1\": \(s.chanceTop1), \"chance_top5\": \(s.chanceTop5)}"
        }
        let modelsJSON = results.enumerated().map { m, result in
            let rows = result.summaries.enumerated().map { l, s in
                "{\"seconds\": \(seconds[l].map { "\($0)" } ?? "null"), \"summary\": \(summary(s))}"
            }
            return "{\"path\": \(JSON.quote(models[m])), \"sha256\": \"\(loaded[m].sha256)\", \"arch\": \"\(loaded[m].config.arch.rawValue)\", "
                + "\"embed_dim\": \(loaded[m].embedDim), \"lengths\": [\(rows.joined(separator: ", "))]}"
        }
        return """
        {"face_model": {"path": \(JSON.quote(facePath)), "sha256": "\(faceModel.sha256)", "arch": "\(faceModel.config.arch.rawValue)", \
        "embed_dim": \(faceModel.embedDim)},
         "identities": [\(identities.map { JSON.quote($0.name) }.joined(separator: ", "))],
         "ci": "95 % t interval of own - impostor over speakers (each speaker's recordings averaged first)",
         "models": [\(modelsJSON.joined(separator: ",\n  "))],
         "reference_real_faces": \(summary(reference))}

        """
    }
}

extension String {
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}

/// The figures of a face-similarity evaluation (`avpgan eval`).
public enum FaceSimilarityFigures {
    /// Planar `[3, S, S]` in [-1, 1] of an RGB8 image resized to S (the grids' tile format).
    static func tile(_ image: FaceModel.Image, size: Int) -> [Float] {
        FaceImage.resize(image.pixels, width: image.width, height: image.height, to: size)
    }

    /// One row per identity (up to `rows`, those with recordings): its first real picture, then
    /// each model's face from its first recording at the longest voice length (Fig. 9).
    public static func grid(results: [FaceSimilarityEvaluation.ModelResult], evaluation: FaceSimilarityEvaluation, rows: Int, to path: String) throws {
        guard let size = results.first?.imageSize else { return }
        var tiles: [Float] = [], count = 0
        let shown = evaluation.identities.indices.filter { i in results.allSatisfy { $0.recordings.contains { $0.identity == i } } }.prefix(rows)
        for i in shown {
            tiles += tile(evaluation.firstPictures[i], size: size)
            for result in results {
                let r = result.recordings.firstIndex { $0.identity == i }!
                tiles += tile(FaceModel.Image(pixels: result.faces[r][result.seconds.count - 1], width: size, height: size), size: size)
            }
            count += 1 + results.count
        }
        guard count > 0 else { return }
        try FileIO.write(try FaceGrid.png(tiles, count: count, size: size, columns: 1 + results.count,
                                          text: [("Comment", "avpgan eval: per row, an identity's real picture, then each model's face from its first recording at the longest voice length")]),
                         to: path)
    }

    /// One row per identity (up to `rows`): its real picture, then the model's faces from its
    /// first recording at every voice length, shortest first (Fig. 6).
    public static func sweep(result: FaceSimilarityEvaluation.ModelResult, evaluation: FaceSimilarityEvaluation, rows: Int, model: String,
                      to path: String) throws {
        let size = result.imageSize
        var tiles: [Float] = [], count = 0
        var seen = Set<Int>()
        for (r, recording) in result.recordings.enumerated() where !seen.contains(recording.identity) && seen.count < rows {
            seen.insert(recording.identity)
            tiles += tile(evaluation.firstPictures[recording.identity], size: size)
            for face in result.faces[r] { tiles += tile(FaceModel.Image(pixels: face, width: size, height: size), size: size) }
            count += 1 + result.faces[r].count
        }
        guard count > 0 else { return }
        let lengths = result.seconds.map { $0 > 0 ? "\($0) s" : "all" }.joined(separator: ", ")
        try FileIO.write(try FaceGrid.png(tiles, count: count, size: size, columns: 1 + result.seconds.count,
                                          text: [("Comment", "avpgan eval, model \(model): per row, an identity's real picture, then faces from one recording at \(lengths) of voice")]),
                         to: path)
    }
}
