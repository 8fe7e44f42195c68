// avpgan — the command-line front of libavpgan. Thin: parses arguments against the command
// table (CommandHelp+Commands.swift), calls the core, prints one clear line per failure and exits
// non-zero.
import AVPGANCore
#if canImport(Glibc)
import Glibc
#endif

func fail(_ message: String, code: Int32 = 1) -> Never {
    fputs("avpgan: \(message)\n", stderr)
    // In an MPI job the other ranks would wait for this one forever: end them all.
    if let group = MPIProcessGroup.current { group.abort(code) }
    exit(code)
}

/// Exits with `code` after ending this process's part of an MPI job, if any (the commands that
/// may run data-parallel): a data-parallel run leaves its MPI job cleanly.
func exitEndingMPI(_ code: Int32) -> Never {
    MPIProcessGroup.current?.finalize()
    exit(code)
}

/// The options and positional arguments of one command, parsed against its entry in the
/// command table (CommandHelp+Commands.swift): `--name value` options, value-less flags,
/// positionals. An option whose value may be left out takes the next argument only when it
/// names a `.safetensors` file, and is "" without one. `--help` / `-h` print the command's help
/// and exit 0; an unknown option is one line naming the closest known one, exit 2.
struct Options {
    var values: [String: String] = [:]
    /// Every value of each option, in order (for options that may repeat, like eval's --model).
    var all: [String: [String]] = [:]
    var flags: Set<String> = []
    var positional: [String] = []

    init(_ args: ArraySlice<String>, for command: CommandHelp) {
        let known = command.valueOptions, knownFlags = command.flags, optional = command.optionalValueOptions
        var i = args.startIndex
        while i < args.endIndex {
            let a = args[i]
            if a == "--help" || a == "-h" {
                print(command.text)
                exit(0)
            } else if knownFlags.contains(a) {
                flags.insert(a)
                i += 1
            } else if optional.contains(a) {
                let value = i + 1 < args.endIndex && args[i + 1].hasSuffix(".safetensors") ? args[i + 1] : ""
                values[a] = value
                all[a, default: []].append(value)
                i += value.isEmpty ? 1 : 2
            } else if a.hasPrefix("-") && a.count > 1 && Double(a) == nil {
                guard known.contains(a) else {
                    let hint = command.closestOption(to: a).map { "; did you mean \($0)?" } ?? ""
                    fail("\(command.name): unknown option \(a)\(hint) (avpgan \(command.name) --help lists the options)", code: 2)
                }
                guard i + 1 < args.endIndex else { fail("\(command.name): option \(a) needs a value", code: 2) }
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

    /// The value of an on/off option: true for "on", false for "off", `value` when absent.
    func onOff(_ name: String, default value: Bool) -> Bool {
        switch values[name] {
        case nil: return value
        case "on": return true
        case "off": return false
        case let other?: fail("\(name) takes on or off, got '\(other)'", code: 2)
        }
    }
}

func info(_ path: String) throws {
    let bytes = try FileIO.read(path)
    // The kind, from the header read once; a file that is not safetensors goes to the model
    // loader, which says what is wrong with it.
    let metadata = (try? Safetensors(bytes: bytes))?.metadata ?? [:]
    let kind = ModelFileKind.of(metadata: metadata)
    if metadata[VoiceTrainingCheckpoint.metadataKey] != nil {
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
    if metadata[TrainingCheckpoint.metadataKey] != nil {
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
    if kind == .faceModel {
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
    if metadata["avpgan.arch"] == PriorFile.archName {
        let (c, tensors) = try PriorFile.read(bytes: bytes)
        print("""
        file:          \(path) (StyleGAN2 face prior, for avpgan train-enhancer --prior)
        architecture:  \(PriorFile.archName) (StyleGAN2GeneratorClean)
        output:        \(c.outSize) x \(c.outSize) RGB
        widths:        num_style_feat \(c.styleDim), num_mlp \(c.mlpLayers), channel_multiplier \(c.channelMultiplier), narrow \(c.narrow)
        parameters:    \(tensors.values.reduce(0) { $0 + $1.count }) values in \(tensors.count) tensors (stored noises included)
        """)
        return
    }
    if kind == .enhancer {
        let e = try Enhancer(bytes: bytes)
        let c = e.config
        print("""
        file:          \(path) (face enhancer, for avpgan enhance and portrait --enhance)
        architecture:  \(EnhancerConfig.archName) (GFPGANv1Clean)
        size:          \(c.outSize) x \(c.outSize)
        style:         \(c.styleDim) features, \(c.differentW ? "\(c.latentCount) vectors" : "one vector"), \(c.inputIsLatent ? "no style MLP" : "style MLP of \(c.mlpLayers) layers")
        widths:        channel_multiplier \(c.channelMultiplier), narrow \(c.narrow); decoder \(([4] + c.levels).map(c.decoderChannels)), U-Net \(([4] + c.levels).map(c.unetChannels))
        CS-SFT:        \(c.sftHalf ? "half of the channels" : "all channels")
        parameters:    \(e.parameterCount)
        """)
        return
    }
    let model = try Model(bytes: bytes, options: LoadOptions(inferenceOnly: false))
    let c = model.config
    let cbamPlaces = [NetworkName.generator, .faceEncoder].filter { c.has($0) && c.hasCBAM($0) }.map(\.rawValue)
    let cbam = cbamPlaces.isEmpty ? "none" : "\(cbamPlaces.joined(separator: ", ")); reduction \(c.cbamReduction), gate \(c.cbamGate.rawValue)"
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
    cbam:          \(cbam)
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
        if let note = BatchRunner.existingOutputNote(out, overwrite: o.flags.contains("--overwrite")) { print(note); return }
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
        if let note = BatchRunner.existingOutputNote(path, overwrite: o.flags.contains("--overwrite")) { print(note); continue }
        try FileIO.write(png, to: path)
        print("wrote \(path) (\(size)x\(size), \(labels[i]))")
    }
}

func numbered(_ path: String, _ i: Int) -> String {
    guard let dot = path.lastIndex(of: "."), !path[dot...].contains("/") else { return "\(path)-\(i)" }
    return "\(path[..<dot])-\(i)\(path[dot...])"
}

let args = CommandLine.arguments
// This process is ours: OpenBLAS single-threaded for its whole life (the library parallelises).
Threads.useSingleThreadedBLAS()
guard args.count >= 2 else { fail(CommandHelp.overview, code: 2) }
if ["help", "--help", "-h"].contains(args[1]) {
    guard args.count > 2 else { print(CommandHelp.overview); exit(0) }
    let name = ["--help", "-h"].contains(args[2]) ? "help" : args[2]
    guard let command = CommandHelp.named(name) else { fail("help: no command '\(args[2])' (avpgan help lists them)", code: 2) }
    print(command.text)
    exit(0)
}
if args[1] == "--version" { print("avpgan \(LibraryVersion.string)"); exit(0) }
guard let command = CommandHelp.named(args[1]) else {
    let names = CommandHelp.all.flatMap { [$0.name] + $0.aliases }
    let closest = names.min { CommandHelp.editDistance(args[1], $0) < CommandHelp.editDistance(args[1], $1) }
    let hint = closest.map { CommandHelp.editDistance(args[1], $0) <= 2 ? "; did you mean \($0)?" : "" } ?? ""
    fail("unknown command '\(args[1])'\(hint) (avpgan help lists the commands)", code: 2)
}
let o = Options(args.dropFirst(2), for: command)
do {
    switch command.name {
    case "info":
        guard o.positional.count == 1 else { fail("info takes one MODEL path", code: 2) }
        try info(o.positional[0])
    case "generate":
        try generate(o)
    case "portrait":
        exit(try PortraitCommands.portrait(o, flags: o.flags, defaultModel: DefaultFile.model.locate(anchor: DefaultFile.executablePath())))
    case "enhance":
        exit(try EnhanceCommand.run(o))
    case "features":
        exit(try PortraitCommands.features(o, flags: o.flags))
    case "train":
        exitEndingMPI(try TrainCommand.run(o, flags: o.flags))
    case "eval":
        exitEndingMPI(try FaceEvalCommand.run(o))
    case "pixel-retrieval":
        exitEndingMPI(try EvaluateCommand.run(o))
    case "train-voice":
        exitEndingMPI(try TrainVoiceCommand.run(o, flags: o.flags))
    case "train-enhancer":
        exitEndingMPI(try TrainEnhancerCommand.run(o, flags: o.flags))
    case "train-prior":
        exitEndingMPI(try TrainPriorCommand.run(o, flags: o.flags))
    case "synth-data":
        exit(try SynthData.run(o))
    case "embed":
        try embed(o)
    case "bench":
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
    case "version":
        print("avpgan \(LibraryVersion.string)")
    default:
        fail("command '\(command.name)' is listed in the help table but has no implementation", code: 70)
    }
} catch let e as AVPGANError {
    // A model file of another kind: say which option takes it.
    let hint = e.fileKind.map { kind -> String in
        switch kind {
        case .voicePortraitModel: return ": give it with --model"
        case .faceModel: return ": give it with --face-model (avpgan eval)"
        case .enhancer: return ": give it with --enhancer"
        }
    } ?? ""
    fail("\(e.message)\(hint) [\(e.kind.statusName)]")
}
