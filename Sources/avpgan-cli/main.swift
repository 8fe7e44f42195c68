// avpgan — the command-line front of libavpgan. Thin: parses arguments, calls the core,
// prints one clear line per failure and exits non-zero.
import AVPGANCore
#if canImport(Glibc)
import Glibc
#endif

let usage = """
usage: avpgan <command> [options]

commands:
  portrait VOICE... [-o OUT.png | --out-dir DIR] [--model M] [--seconds S] [--no-vad]
           [--vad-mode 0-3] [--pixels clamp|minmax] [--noise SD --seed N] [--timestamp]
                                     faces from recordings (files or folders of them), as PNG
                                     with provenance; one line per failure, exit 1 if any failed
  features VOICE -o FEATURES.npy [--seconds S] [--no-vad] [--vad-mode 0-3]
                                     the front end's log-mel features [n_frames, 64]
  info MODEL                         what a model file holds (architecture, widths, sizes; also
                                     face-recognition and checkpoint files)
  train --voices DIR --faces DIR --voice-encoder MODEL -o MODEL.safetensors
        [--arch avpgan] [--widths full|tiny] [--steps 1000] [--batch 64] [--seed 1]
        [--checkpoint-dir D] [--checkpoint-every 100] [--resume] [--test-list FILE] [--log F.jsonl]
        [--samples-every N (default: --checkpoint-every; 0: none)] [--split-rule initial-letter]
        [--generator-sn on|off (spectral norm on the generator too, as the reference; default on)]
        [--stop-on-collapse (stop, keeping the last healthy checkpoint, when training collapses)]
        [--health-warm-up 500 (steps before collapse and a runaway discriminator are judged)]
                                     Algorithm 1 (the voice encoder frozen); Ctrl-C checkpoints;
                                     with --checkpoint-dir D, sample sheets D/samples/step-N.png
  evaluate --model MODEL --voices DIR --faces DIR [--split test|validation|train] [--test-list F]
           [--split-rule initial-letter] [--cache DIR] [--json F.json] [--grid F.png]
                                     does the face of a recording resemble its speaker? pixel
                                     retrieval top-1/top-5 and mean rank of generated faces against
                                     one mean picture per identity, beside chance and real pictures
  eval --model M [--model M2 ...] --voices DIR --faces DIR --face-model F.safetensors
       [--seconds 2,4,6,8] [--identities FILE|a,b,c | --split test|validation|train|all]
       [-o DIR (default eval)] [--rows 8] [--threads N]
                                     the paper's protocol on a face-recognition network: per model
                                     and voice length, mean cosine with the speaker's own faces and
                                     with other identities' (impostor baseline), the difference with
                                     a 95% CI, retrieval top-1/top-5; writes eval.md, eval.csv,
                                     eval-recordings.csv, eval.json, grid.png (real vs generated),
                                     sweep-N.png (faces per voice length)
  (identity splits: --test-list F names the test identities, default voices/../test.txt;
   --split-rule initial-letter: A-B validation, C-E test, the rest training, as the paper)
  train-voice --voices DIR -o ENCODER.safetensors [--widths full|tiny] [--steps 1000] [--batch 64]
        [--lr 2e-4] [--seed 1] [--checkpoint-dir D] [--checkpoint-every 100] [--resume]
        [--test-list FILE | --split-rule initial-letter] [--log F.jsonl] [--cache DIR] [--threads N]
                                     pre-train the voice encoder as a speaker classifier; writes an
                                     encoder-only model file for train --voice-encoder; Ctrl-C checkpoints
  synth-data -o DIR [--speakers 20] [--utterances 4] [--faces 4] [--seed 1]
                                     a synthetic voice-face data set (espeak-ng voices, procedural
                                     faces that depend on the voice), in the voices/ faces/ layout
  embed --model MODEL FEATURES.npy   the voice embedding of log-mel features [n_frames, n_mels]
        [-o EMBEDDING.npy]           (printed when no -o is given)
  generate --model MODEL -o OUT.png  faces from embeddings [E] or [N, E] in a .npy file,
           [--embedding E.npy | --seed N [--count N]]      or from seeded unit vectors
           [--pixels clamp|minmax] [--threads N]
           (more than one face writes OUT-0.png, OUT-1.png, ...)
  bench --model MODEL [--batch 1,64] [--frames 800] [--seconds 2] [--threads N] [--json 1] [--voice WAV]
                                     time the voice encoder and the generator here
  bench --train ARCH [--batch 64] [--frames 800] [--steps 3] [--threads N] [--json 1]
                                     time one training step (full widths, random data)
  version                            the library version
"""

func fail(_ message: String, code: Int32 = 1) -> Never {
    fputs("avpgan: \(message)\n", stderr)
    exit(code)
}

/// `--name value` options, value-less `--flag`s and positional arguments of one command.
struct Options {
    var values: [String: String] = [:]
    /// Every value of each option, in order (for options that may repeat, like eval's --model).
    var all: [String: [String]] = [:]
    var flags: Set<String> = []
    var positional: [String] = []

    init(_ args: ArraySlice<String>, known: Set<String>, flags knownFlags: Set<String> = []) {
        var i = args.startIndex
        while i < args.endIndex {
            let a = args[i]
            if knownFlags.contains(a) {
                flags.insert(a)
                i += 1
            } else if a.hasPrefix("-") && a.count > 1 {
                guard known.contains(a) else { fail("unknown option \(a)\n\n\(usage)", code: 2) }
                guard i + 1 < args.endIndex else { fail("option \(a) needs a value", code: 2) }
                values[a] = args[i + 1]
                all[a, default: []].append(args[i + 1])
                i += 2
            } else {
                positional.append(a)
                i += 1
            }
        }
    }

    func integer(_ name: String, default value: Int) -> Int {
        guard let text = values[name] else { return value }
        guard let v = Int(text) else { fail("\(name) takes an integer, got '\(text)'", code: 2) }
        return v
    }
}

func info(_ path: String) throws {
    let bytes = try FileIO.read(path)
    if let file = try? Safetensors(bytes: bytes), file.metadata[VoiceTrainingCheckpoint.metadataKey] != nil {
        let c = try VoiceTrainingCheckpoint(bytes: bytes)
        print("""
        file:          \(path) (voice-encoder pre-training checkpoint)
        step:          \(c.step) (Adam step \(c.adamStep), lr \(c.lr), betas \(c.beta1)/\(c.beta2))
        embed_dim:     \(c.config.embedDim)
        voice widths:  \(c.config.voiceWidths)
        speakers:      \(c.speakers.count) (\(c.speakers.prefix(4).joined(separator: ", "))\(c.speakers.count > 4 ? ", ..." : ""))
        """)
        return
    }
    if let file = try? Safetensors(bytes: bytes), file.metadata["avpgan.checkpoint"] != nil {
        let c = try TrainingCheckpoint(bytes: bytes)
        print("""
        file:          \(path) (training checkpoint)
        architecture:  \(c.config.arch.rawValue)
        step:          \(c.step) (Adam step \(c.adamStep), lr \(c.lr), betas \(c.beta1)/\(c.beta2))
        embed_dim:     \(c.config.embedDim)
        gen widths:    \(c.config.generatorWidths)
        face widths:   \(c.config.faceWidths)
        identities:    \(c.config.identities)
        trained:       \(TrainingCheckpoint.trainedParameters(c.config).count) parameter tensors with Adam state
        """)
        return
    }
    if let file = try? Safetensors(bytes: bytes), FaceModelConfig.isFaceModel(metadata: file.metadata) {
        let face = try FaceModel(bytes: bytes)
        let c = face.config
        print("""
        file:          \(path) (face-recognition model, for avpgan eval)
        architecture:  \(c.arch.rawValue)
        input:         \(c.inputSize) x \(c.inputSize) \(c.bgr ? "BGR" : "RGB"), (pixel - \(c.inputMean)) / \(c.inputStd)
        embed_dim:     \(c.embedDim)
        batch norm:    \(c.batchNorm.rawValue)
        parameters:    \(face.parameterCount)
        """)
        return
    }
    let model = try Model(bytes: bytes, options: LoadOptions(inferenceOnly: false))
    let c = model.config
    print("""
    file:          \(path)
    architecture:  \(c.arch.rawValue)
    networks:      \(model.loaded.map(\.rawValue).joined(separator: ", "))
    n_mels:        \(c.nMels)
    embed_dim:     \(c.embedDim)
    image:         \(c.has(.generator) ? "3 x \(c.imageSize) x \(c.imageSize)" : "- (voice encoder only: embeds, does not generate)")
    voice widths:  \(c.voiceWidths)
    gen widths:    \(c.has(.generator) ? "\(c.generatorWidths)" : "-")
    face widths:   \(c.faceWidths.isEmpty ? "-" : "\(c.faceWidths)")
    identities:    \(c.identities)
    spectral norm: \(c.spectralNorm.rawValue)
    pixels:        \(c.pixels.rawValue)
    parameters:    \(model.parameterCount)
    """)
}

func embed(_ o: Options) throws {
    guard let modelPath = o.values["--model"] else { fail("embed needs --model MODEL", code: 2) }
    guard o.positional.count == 1 else { fail("embed takes one FEATURES.npy", code: 2) }
    let (features, shape) = try NPY.read(try FileIO.read(o.positional[0]), name: o.positional[0])
    guard shape.count == 2 else { fail("\(o.positional[0]): features must be 2-D [n_frames, n_mels], got shape \(shape)") }
    let model = try Model(path: modelPath)
    var embedding = [Float](repeating: 0, count: model.embedDim)
    try model.embed(features: features, frames: shape[0], melBands: shape[1], into: &embedding)
    if let out = o.values["-o"] {
        try FileIO.write(NPY.write(embedding, shape: [model.embedDim]), to: out)
        print("wrote \(out) (\(model.embedDim) values, from \(shape[0]) frames)")
    } else {
        print(embedding.map { "\($0)" }.joined(separator: " "))
    }
}

func generate(_ o: Options) throws {
    guard let modelPath = o.values["--model"] else { fail("generate needs --model MODEL", code: 2) }
    guard let out = o.values["-o"] else { fail("generate needs -o OUT.png", code: 2) }
    var pixels: PixelMapping?
    if let p = o.values["--pixels"] {
        guard let m = PixelMapping(rawValue: p) else { fail("--pixels takes clamp or minmax, got '\(p)'", code: 2) }
        pixels = m
    }
    if o.values["--threads"] != nil { try Threads.set(o.integer("--threads", default: 0)) }
    let model = try Model(path: modelPath)
    let e = model.embedDim, size = model.imageSize
    var embeddings: [Float] = []
    var labels: [String] = []
    if let file = o.values["--embedding"] {
        guard o.values["--seed"] == nil, o.values["--count"] == nil else { fail("--embedding excludes --seed and --count", code: 2) }
        let (values, shape) = try NPY.read(try FileIO.read(file), name: file)
        guard shape.last == e, shape.count == 1 || shape.count == 2, !values.isEmpty else {
            fail("\(file): embeddings must be [\(e)] or [N, \(e)] for this model, got shape \(shape)")
        }
        embeddings = values
        labels = (0..<(values.count / e)).map { "\(file)[\($0)]" }
    } else {
        let count = o.integer("--count", default: 1)
        guard (1...1024).contains(count) else { fail("--count must be 1...1024", code: 2) }
        let seed = o.integer("--seed", default: 0)
        for i in 0..<count { embeddings += SeededEmbedding.make(seed: UInt64(truncatingIfNeeded: seed + i), dimension: e) }
        labels = (0..<count).map { "seed \(seed + $0)" }
    }
    let count = labels.count
    var rgb = [UInt8](repeating: 0, count: count * model.imageFloats)
    try model.generateRGB8(embeddings: embeddings, count: count, embedDim: e, pixels: pixels, into: &rgb)
    for i in 0..<count {
        let png = try rgb.withUnsafeBufferPointer {
            try PNGCodec.encodeRGB8($0.baseAddress! + i * model.imageFloats, width: size, height: size)
        }
        let path = count == 1 ? out : numbered(out, i)
        try FileIO.write(png, to: path)
        print("wrote \(path) (\(size)x\(size), \(labels[i]))")
    }
}

/// The model used when --model is not given: $AVPGAN_MODEL, else the packaged default model.
func defaultModelPath() -> String? {
    if let env = getenv("AVPGAN_MODEL") { return String(cString: env) }
    let installed = "/usr/share/avpgan/default.safetensors"
    return access(installed, R_OK) == 0 ? installed : nil
}

func numbered(_ path: String, _ i: Int) -> String {
    guard let dot = path.lastIndex(of: "."), !path[dot...].contains("/") else { return "\(path)-\(i)" }
    return "\(path[..<dot])-\(i)\(path[dot...])"
}

let args = CommandLine.arguments
guard args.count >= 2 else { fail(usage, code: 2) }
do {
    switch args[1] {
    case "info":
        let o = Options(args.dropFirst(2), known: [])
        guard o.positional.count == 1 else { fail("info takes one MODEL path", code: 2) }
        try info(o.positional[0])
    case "generate":
        try generate(Options(args.dropFirst(2), known: ["--model", "-o", "--seed", "--count", "--pixels", "--threads", "--embedding"]))
    case "portrait":
        let o = Options(args.dropFirst(2), known: ["--model", "-o", "--out-dir", "--seconds", "--vad-mode", "--pixels",
                                                   "--noise", "--seed", "--threads"], flags: ["--no-vad", "--timestamp"])
        exit(try PortraitCommands.portrait(o, flags: o.flags, defaultModel: defaultModelPath()))
    case "features":
        let o = Options(args.dropFirst(2), known: ["-o", "--seconds", "--vad-mode"], flags: ["--no-vad"])
        exit(try PortraitCommands.features(o, flags: o.flags))
    case "train":
        let o = Options(args.dropFirst(2), known: ["--voices", "--faces", "--voice-encoder", "-o", "--arch", "--widths", "--steps",
                                                   "--batch", "--seed", "--checkpoint-dir", "--checkpoint-every", "--test-list",
                                                   "--log", "--cache", "--threads", "--samples-every", "--split-rule", "--generator-sn", "--health-warm-up"],
                        flags: ["--resume", "--stop-on-collapse"])
        exit(try TrainCommand.run(o, flags: o.flags))
    case "eval":
        exit(try FaceEvalCommand.run(Options(args.dropFirst(2), known: [
            "--model", "--voices", "--faces", "--face-model", "--seconds", "--identities", "--split", "--test-list",
            "--split-rule", "-o", "--threads", "--rows"])))
    case "evaluate":
        exit(try EvaluateCommand.run(Options(args.dropFirst(2), known: ["--model", "--voices", "--faces", "--split", "--test-list",
                                                                        "--cache", "--json", "--grid", "--threads", "--split-rule"])))
    case "train-voice":
        let o = Options(args.dropFirst(2), known: ["--voices", "-o", "--widths", "--steps", "--batch", "--lr", "--seed", "--checkpoint-dir",
                                                   "--checkpoint-every", "--test-list", "--log", "--cache", "--threads", "--split-rule"], flags: ["--resume"])
        exit(try TrainVoiceCommand.run(o, flags: o.flags))
    case "synth-data":
        exit(try SynthData.run(Options(args.dropFirst(2), known: ["-o", "--speakers", "--utterances", "--faces", "--seed"])))
    case "embed":
        try embed(Options(args.dropFirst(2), known: ["--model", "-o"]))
    case "bench":
        let o = Options(args.dropFirst(2), known: ["--model", "--batch", "--frames", "--seconds", "--threads", "--json", "--voice",
                                                   "--train", "--steps"])
        if let name = o.values["--train"] {
            guard let arch = Architecture(rawValue: name) else { fail("--train takes voice2face, avpgan or avpgan-nocbam", code: 2) }
            if o.values["--threads"] != nil { try Threads.set(o.integer("--threads", default: 0)) }
            try Bench.runTraining(arch: arch, batch: o.integer("--batch", default: 64), frames: o.integer("--frames", default: 800),
                                  steps: o.integer("--steps", default: 3), json: o.values["--json"] == "1")
            break
        }
        guard let model = o.values["--model"] else { fail("bench needs --model MODEL", code: 2) }
        let batches = (o.values["--batch"] ?? "1,64").split(separator: ",").map { Int($0) ?? 0 }
        guard batches.allSatisfy({ (1...Model.maxBatch).contains($0) }) else { fail("--batch takes sizes like 1,64", code: 2) }
        if o.values["--threads"] != nil { try Threads.set(o.integer("--threads", default: 0)) }
        let seconds = Double(o.values["--seconds"] ?? "2") ?? 2
        try Bench.run(model: model, batches: batches, frames: o.integer("--frames", default: 800), seconds: seconds,
                      json: o.values["--json"] == "1", voice: o.values["--voice"])
    case "version", "--version":
        print("avpgan \(LibraryVersion.string)")
    case "help", "--help", "-h":
        print(usage)
    default:
        fail("unknown command '\(args[1])'\n\n\(usage)", code: 2)
    }
} catch let e as AVPGANError {
    fail("\(e.message) [\(e.kind.statusName)]")
}
