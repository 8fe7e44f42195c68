import AVPGANCore
#if canImport(Glibc)
import Glibc
#endif

/// `avpgan synth-data`: parses the options and writes a `SyntheticDataSet` (espeak-ng voices,
/// procedural faces that depend on them, identities.csv, test.txt), with progress on the terminal.
enum SynthData {
    static func run(_ o: Options) throws -> Int32 {
        guard let out = o.values["-o"] else { fail("synth-data needs -o DIR", code: 2) }
        let count = o.integer("--speakers", default: 20)
        let utterances = o.integer("--utterances", default: 4)
        let faces = o.integer("--faces", default: 4)
        guard SyntheticDataSet.speakerRange.contains(count), SyntheticDataSet.perSpeakerRange.contains(utterances),
              SyntheticDataSet.perSpeakerRange.contains(faces) else {
            fail("--speakers takes 2...10000, --utterances and --faces 1...100", code: 2)
        }
        let faceSize = o.integer("--face-size", default: SyntheticFace.baseSize)
        guard SyntheticFace.sizes.contains(faceSize) else {
            fail("--face-size takes \(SyntheticFace.sizes.map(String.init).joined(separator: ", "))", code: 2)
        }
        let seed = UInt64(truncatingIfNeeded: o.integer("--seed", default: 1))
        let terminal = isatty(STDERR_FILENO) == 1
        let speakers = try SyntheticDataSet.write(to: out, speakers: count, utterances: utterances, faces: faces, seed: seed, faceSize: faceSize) { done, total in
            if terminal { fputs(done < total ? "\r\(done + 1)/\(total) speakers\u{1B}[K" : "\r\u{1B}[K", stderr) }
        }
        let test = speakers.filter(\.heldOut).count
        print("wrote \(count) speakers (\(test) held out) x \(utterances) recordings and \(faces) faces (\(faceSize) px) to \(out)")
        return 0
    }
}
