import AVPGANCore
import FuzzDriver
#if canImport(Glibc)
import Glibc
#endif

/// Fuzz target: the readers of untrusted model files. The first byte picks the reader (model,
/// model with every network, face model, training checkpoint, voice pre-training checkpoint);
/// the rest is the file. Each must throw or load, never crash, hang or leak.
exit(runFuzzer(CommandLine.argc, CommandLine.unsafeArgv) { input in
    var r = FuzzReader(input)
    let which = r.byte() % 5
    let file = r.rest()
    switch which {
    case 0: _ = try? Model(bytes: file, options: LoadOptions(inferenceOnly: true))
    case 1: _ = try? Model(bytes: file, options: LoadOptions(maxHeaderBytes: 1 << 16, inferenceOnly: false))
    case 2: _ = try? FaceModel(bytes: file)
    case 3: _ = try? TrainingCheckpoint(bytes: file)
    default: _ = try? VoiceTrainingCheckpoint(bytes: file)
    }
})
