import AVPGANCore
#if canImport(Glibc)
import Glibc
#endif

/// `avpgan synth-data`: a voice-face data set in the VoxCeleb/VGGFace layout whose faces
/// depend on the voices (see SyntheticSpeaker), to show that the pipeline learns:
///   DIR/voices/<id>/<k>.wav   espeak-ng speech (its own rate, 22.05 kHz)
///   DIR/faces/<id>/<k>.png    procedural 64x64 faces
///   DIR/identities.csv        id, language, variant, pitch, rate, split (train/test)
///   DIR/test.txt              the held-out identities, one per line
enum SynthData {
    static func run(_ o: Options) throws -> Int32 {
        guard let out = o.values["-o"] else { fail("synth-data needs -o DIR", code: 2) }
        let count = o.integer("--speakers", default: 20)
        let utterances = o.integer("--utterances", default: 4)
        let faces = o.integer("--faces", default: 4)
        guard (2...10_000).contains(count), (1...100).contains(utterances), (1...100).contains(faces) else {
            fail("--speakers takes 2...10000, --utterances and --faces 1...100", code: 2)
        }
        let seed = UInt64(truncatingIfNeeded: o.integer("--seed", default: 1))
        let speakers = SyntheticSpeaker.make(count: count, seed: seed)
        for dir in [out, "\(out)/voices", "\(out)/faces"] { try makeDirectory(dir) }
        var csv = "id,language,variant,pitch,rate,split\n"
        let progress = isatty(STDERR_FILENO) == 1
        for (i, s) in speakers.enumerated() {
            if progress { fputs("\r\(i + 1)/\(count) speakers\u{1B}[K", stderr) }
            try makeDirectory("\(out)/voices/\(s.id)")
            try makeDirectory("\(out)/faces/\(s.id)")
            for k in 0..<utterances {
                try spawn("espeak-ng", s.espeakArguments(text: s.sentence(k), wav: "\(out)/voices/\(s.id)/\(k).wav"))
            }
            for k in 0..<faces {
                let pixels = SyntheticFace.draw(s, index: k)
                let png = try pixels.withUnsafeBufferPointer {
                    try PNGCodec.encodeRGB8($0.baseAddress!, width: SyntheticFace.size, height: SyntheticFace.size)
                }
                try FileIO.write(png, to: "\(out)/faces/\(s.id)/\(k).png")
            }
            csv += "\(s.id),\(s.language),\(s.variant),\(s.pitch),\(s.rate),\(s.heldOut ? "test" : "train")\n"
        }
        if progress { fputs("\r\u{1B}[K", stderr) }
        try FileIO.write(Array(csv.utf8), to: "\(out)/identities.csv")
        let test = speakers.filter(\.heldOut).map(\.id)
        try FileIO.write(Array((test.joined(separator: "\n") + "\n").utf8), to: "\(out)/test.txt")
        print("wrote \(count) speakers (\(test.count) held out) x \(utterances) recordings and \(faces) faces to \(out)")
        return 0
    }

    static func makeDirectory(_ path: String) throws {
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw AVPGANError(.io, "cannot create '\(path)': \(String(cString: strerror(errno)))")
        }
    }

    /// Runs `program` with `arguments` (searched on PATH), waiting for it; a non-zero exit is an error.
    static func spawn(_ program: String, _ arguments: [String]) throws {
        let argv = ([program] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        let started = posix_spawnp(&pid, program, &actions, nil, argv, environ)
        guard started == 0 else {
            throw AVPGANError(.io, "cannot run \(program): \(String(cString: strerror(started))) (Debian: apt-get install \(program))")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else { throw AVPGANError(.io, "\(program) \(arguments.prefix(6).joined(separator: " ")) failed (status \(status))") }
    }
}
