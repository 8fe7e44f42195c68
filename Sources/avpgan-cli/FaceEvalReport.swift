import AVPGANCore

/// The tables of `avpgan eval`: Markdown (the paper's Table 4 with the baseline, the
/// difference's interval and retrieval), a CSV row per model and length, a CSV row per
/// recording and length, and JSON with everything.
struct Report {
    let models: [String]
    let loaded: [Model]
    let results: [FaceSimilarityEvaluation.ModelResult]
    let reference: FaceSimilarityEvaluation.Summary
    let identities: [DatasetIndex.Identity]
    let faceModel: FaceModel
    let facePath: String
    let seconds: [Double?]

    /// Short names for the models: file names, or whole paths where file names repeat.
    var labels: [String] {
        let names = models.map { $0.split(separator: "/").last.map(String.init) ?? $0 }
        return names.indices.map { i in names.filter { $0 == names[i] }.count > 1 ? models[i] : names[i] }
    }

    static func length(_ s: Double?) -> String { s.map { "\(fixed($0, $0 == $0.rounded() ? 0 : 1)) s" } ?? "all" }
    static func number(_ x: Double, _ digits: Int = 3) -> String { x.isFinite ? fixed(x, digits) : "n/a" }
    static func percent(_ x: Double) -> String { fixed(100 * x, 1) + " %" }
    static func json(_ x: Double) -> String { x.isFinite ? "\(x)" : "null" }

    func markdown() -> String {
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
                out += "| \(labels[m]) | \(loaded[m].config.arch.rawValue) | \(Report.length(seconds[l])) | \(Report.number(s.voicedSeconds, 1)) s | \(s.recordings) | "
                    + "\(Report.number(s.own)) | \(Report.number(s.impostor)) | \(Report.number(s.difference)) "
                    + "[\(Report.number(s.differenceLow)), \(Report.number(s.differenceHigh))] | "
                    + "\(Report.percent(s.top1)) | \(Report.percent(s.top5)) |\n"
            }
        }
        let r = reference
        out += "| real faces (reference) | – | – | – | \(r.recordings) faces | \(Report.number(r.own)) | \(Report.number(r.impostor)) | "
            + "\(Report.number(r.difference)) [\(Report.number(r.differenceLow)), \(Report.number(r.differenceHigh))] | "
            + "\(Report.percent(r.top1)) | \(Report.percent(r.top5)) |\n"
        out += "| chance | – | – | – | – | – | – | 0 | \(Report.percent(1 / Double(identities.count))) | "
            + "\(Report.percent(min(5, Double(identities.count)) / Double(identities.count))) |\n"
        return out
    }

    func csv() -> String {
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

    func recordingsCSV() -> String {
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

    func json() -> String {
        func summary(_ s: FaceSimilarityEvaluation.Summary) -> String {
            "{\"recordings\": \(s.recordings), \"identities\": \(s.identities), \"own\": \(Report.json(s.own)), "
                + "\"impostor\": \(Report.json(s.impostor)), \"difference\": \(Report.json(s.difference)), "
                + "\"difference_ci95\": [\(Report.json(s.differenceLow)), \(Report.json(s.differenceHigh))], "
                + "\"top1\": \(s.top1), \"top5\": \(s.top5), \"voiced_seconds_mean\": \(Report.json(s.voicedSeconds)), \"chance_top1\": \(s.chanceTop1), \"chance_top5\": \(s.chanceTop5)}"
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

/// The figures of `avpgan eval`.
enum Figures {
    /// Planar `[3, S, S]` in [-1, 1] of an RGB8 image resized to S (the grids' tile format).
    static func tile(_ image: FaceModel.Image, size: Int) -> [Float] {
        FaceImage.resize(image.pixels, width: image.width, height: image.height, to: size)
    }

    /// One row per identity (up to `rows`, those with recordings): its first real picture, then
    /// each model's face from its first recording at the longest voice length (Fig. 9).
    static func grid(results: [FaceSimilarityEvaluation.ModelResult], evaluation: FaceSimilarityEvaluation, rows: Int, to path: String) throws {
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
    static func sweep(result: FaceSimilarityEvaluation.ModelResult, evaluation: FaceSimilarityEvaluation, rows: Int, model: String,
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
