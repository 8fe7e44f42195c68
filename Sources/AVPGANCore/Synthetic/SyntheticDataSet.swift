// Synthetic/: a data set made from nothing, to show the pipeline learns: `SyntheticSpeaker`
// gives each identity an espeak-ng voice and the face parameters it implies, `SyntheticFace`
// draws the faces, `SyntheticDataSet` (here) writes them in the VoxCeleb layout.

#if canImport(Glibc)
import Glibc
#endif

/// A voice-face data set in the VoxCeleb/VGGFace layout whose faces depend on the voices (see
/// `SyntheticSpeaker`), to show that the pipeline learns (`avpgan synth-data` and the C API's
/// synthetic-data call, which name it for their users):
///   DIR/voices/<id>/<k>.wav   espeak-ng speech (its own rate, 22.05 kHz)
///   DIR/faces/<id>/<k>.png    procedural faces, 64x64 unless asked larger (`faceSize`)
///   DIR/identities.csv        id, language, variant, pitch, rate, split (train/test)
///   DIR/test.txt              the held-out identities, one per line
/// Deterministic for a seed (given the same espeak-ng).
public enum SyntheticDataSet {
    public static let speakerRange = 2...10_000
    public static let perSpeakerRange = 1...100

    /// Writes the data set into `directory` (created, with its parent existing): `speakers`
    /// speakers with `utterances` recordings and `faces` pictures each, the pictures
    /// `faceSize` px square (one of `SyntheticFace.sizes`; the 64 px default is what the
    /// generator makes, 128 and up train an enhancer). `progress(done, total)`
    /// after each speaker; `shouldStop` is asked before each speaker and stops with an
    /// `aborted` error (what was written stays). Returns the speakers (their `heldOut` marks
    /// the test identities).
    @discardableResult
    public static func write(to directory: String, speakers count: Int, utterances: Int, faces: Int, seed: UInt64,
                             faceSize: Int = SyntheticFace.baseSize, progress: (Int, Int) -> Void = { _, _ in }, shouldStop: () -> Bool = { false }) throws -> [SyntheticSpeaker] {
        guard speakerRange.contains(count), perSpeakerRange.contains(utterances), perSpeakerRange.contains(faces) else {
            throw AVPGANError(.invalidArgument, "speakers is \(count), utterances \(utterances), faces \(faces); expected speakers 2...10000, utterances and faces 1...100")
        }
        guard SyntheticFace.sizes.contains(faceSize) else {
            throw AVPGANError(.invalidArgument, "face size is \(faceSize); expected one of \(SyntheticFace.sizes.map(String.init).joined(separator: ", "))")
        }
        let speakers = SyntheticSpeaker.make(count: count, seed: seed)
        for dir in [directory, "\(directory)/voices", "\(directory)/faces"] { try FileIO.makeDirectory(dir) }
        var csv = "id,language,variant,pitch,rate,split\n"
        for (i, s) in speakers.enumerated() {
            if shouldStop() { throw AVPGANError(.aborted, "stopped after \(i) of \(count) speakers") }
            try FileIO.makeDirectory("\(directory)/voices/\(s.id)")
            try FileIO.makeDirectory("\(directory)/faces/\(s.id)")
            for k in 0..<utterances {
                try spawn("espeak-ng", s.espeakArguments(text: s.sentence(k), wav: "\(directory)/voices/\(s.id)/\(k).wav"))
            }
            for k in 0..<faces {
                let pixels = try SyntheticFace.draw(s, index: k, size: faceSize)
                let png = try pixels.withUnsafeBufferPointer {
                    try PNGCodec.encodeRGB8($0.baseAddress!, width: faceSize, height: faceSize)
                }
                try FileIO.write(png, to: "\(directory)/faces/\(s.id)/\(k).png")
            }
            csv += "\(s.id),\(s.language),\(s.variant),\(s.pitch),\(s.rate),\(s.heldOut ? "test" : "train")\n"
            progress(i + 1, count)
        }
        try FileIO.write(Array(csv.utf8), to: "\(directory)/identities.csv")
        let test = speakers.filter(\.heldOut).map(\.id)
        try FileIO.write(Array((test.joined(separator: "\n") + "\n").utf8), to: "\(directory)/test.txt")
        return speakers
    }

    /// Runs `program` with `arguments` (searched on PATH, stdout to /dev/null), waiting for it;
    /// a non-zero exit is an `io` error.
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
