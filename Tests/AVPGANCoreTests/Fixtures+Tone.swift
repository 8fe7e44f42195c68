@testable import AVPGANCore
import CSndfile
#if canImport(Glibc)
import Glibc
#endif

extension Fixtures {
    /// Writes a 16 kHz mono 16-bit WAV file of a sine tone: `samples` samples at `hz`, amplitude 0.3.
    static func writeTone(_ path: String, samples: Int, hz: Double) {
        let rate = 16000
        let x = (0..<samples).map { j in Float(0.3 * sin(2 * .pi * hz * Double(j) / Double(rate))) }
        var info = SF_INFO()
        info.samplerate = Int32(rate); info.channels = 1; info.format = Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_16)
        let file = sf_open(path, Int32(SFM_WRITE), &info)!
        _ = x.withUnsafeBufferPointer { sf_writef_float(file, $0.baseAddress, sf_count_t(samples)) }
        sf_close(file)
    }

    /// Writes `<root>/voices/s<i>/<k>.wav` for speaker i of `tones` with `tones[i]` recordings:
    /// recording k is `(3 + k) / 2` seconds of a tone at `120 + 40 i` Hz (each speaker its pitch).
    static func writeToneSpeakers(_ root: String, tones: [Int]) {
        mkdir("\(root)/voices", 0o755)
        for (i, count) in tones.enumerated() {
            mkdir("\(root)/voices/s\(i)", 0o755)
            for k in 0..<count {
                writeTone("\(root)/voices/s\(i)/\(k).wav", samples: 16000 * (3 + k) / 2, hz: 120 + 40 * Double(i))
            }
        }
    }
}
