import AVPGANCore

/// What `train-enhancer` and `train-prior` read the same way: both train on a face folder at
/// one of `EnhancerFaceSet.sizes`, with the enhancer's width presets, and a resumed run keeps
/// its checkpoint's recipe.
enum FaceTrainingOptions {
    /// On `--resume`: notes the given `recipeOptions` that the checkpoint overrides, and exits
    /// with `code` unless `--checkpoint-dir` holds `checkpointName`.
    static func checkResume(_ o: Options, options: some TrainingScheduleOptions, recipeOptions: [String], checkpointName: String,
                            code: Int32 = 2) {
        guard options.resume else { return }
        let given = recipeOptions.filter { o.values[$0] != nil }
        if !given.isEmpty {
            print("note: \(given.joined(separator: ", ")) describe\(given.count == 1 ? "s" : "") a new run; the resumed run keeps its checkpoint's")
        }
        TrainingConsole.requireCheckpoint(resume: true, directory: options.checkpointDirectory, name: checkpointName, code: code)
    }

    /// `--faces DIR` and `-o FILE` of `command` ("train-prior"; `file` names what -o takes,
    /// "PRIOR.safetensors"); exits 2 naming the one missing.
    static func facesAndOutput(_ o: Options, command: String, file: String) -> (faces: String, output: String) {
        guard let faces = o.values["--faces"] else { fail("\(command) needs --faces DIR (aligned square faces)", code: 2) }
        guard let output = o.values["-o"] else { fail("\(command) needs -o \(file)", code: 2) }
        return (faces, output)
    }

    /// `--batch` (nil when absent: the session's default); exits 2 on a value that is not an integer.
    static func batch(_ o: Options) -> Int? { o.values["--batch"].map { _ in o.integer("--batch", default: 4) } }

    /// `--size`, one of `EnhancerFaceSet.sizes`; nil when absent; exit 2 otherwise.
    static func size(_ o: Options) -> Int? {
        guard let size = o.values["--size"] else { return nil }
        guard let s = Int(size), EnhancerFaceSet.sizes.contains(s) else {
            fail("--size takes \(EnhancerFaceSet.sizes.map(String.init).joined(separator: ", ")), got '\(size)'", code: 2)
        }
        return s
    }

    /// `--widths`, a preset of `EnhancerTrainingSession.Widths` (default small); exit 2 otherwise.
    static func widths(_ o: Options) -> EnhancerTrainingSession.Widths {
        let name = o.values["--widths"] ?? EnhancerTrainingSession.Widths.small.rawValue
        guard let widths = EnhancerTrainingSession.Widths(rawValue: name) else {
            fail("--widths takes \(EnhancerTrainingSession.Widths.allCases.map(\.rawValue).joined(separator: ", ")), got '\(name)'", code: 2)
        }
        return widths
    }

    /// The number given to `name` when it lies in `range`; nil when absent; exit 2 otherwise.
    static func number(_ o: Options, _ name: String, in range: ClosedRange<Double>) -> Double? {
        guard let text = o.values[name] else { return nil }
        guard let v = Double(text), range.contains(v) else { fail("\(name) takes a number in [\(range.lowerBound), \(range.upperBound)], got '\(text)'", code: 2) }
        return v
    }
}
