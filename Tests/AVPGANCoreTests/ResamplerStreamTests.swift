@testable import AVPGANCore
import XCTest

/// The chunked resampler gives, bit for bit, what one-shot resampling gives, for every chunking:
/// the streaming decoder relies on it to keep today's results.
final class ResamplerStreamTests: XCTestCase {
    func testChunkedEqualsOneShot() throws {
        var rng = SystemRandomNumberGenerator()
        for (from, to) in [(48000, 16000), (44100, 16000), (8000, 16000), (22050, 16000), (16000, 44100), (11025, 16000)] {
            let n = from * 3 / 2 + 17
            let signal = (0..<n).map { i in Float(0.4 * sin(Double(i) * 0.013) + 0.2 * sin(Double(i) * 0.31)) }
            let expected = try Resampler.resample(signal, from: from, to: to)
            for chunk in [1, 160, 4096, 16384, n, Int.random(in: 2...9000, using: &rng)] {
                let stream = try ResamplerStream(from: from, to: to)
                var out: [Float] = []
                var at = 0
                while at < n {
                    let end = min(n, at + chunk)
                    try signal[at..<end].withUnsafeBufferPointer { try stream.process($0, into: &out) }
                    at = end
                }
                try stream.finish(into: &out)
                XCTAssertEqual(out.count, expected.count, "\(from) -> \(to) Hz in chunks of \(chunk): length")
                XCTAssertTrue(out == expected, "\(from) -> \(to) Hz in chunks of \(chunk): samples differ from one-shot resampling")
            }
        }
    }
}
