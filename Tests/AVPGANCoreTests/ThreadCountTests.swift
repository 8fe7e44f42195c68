@testable import AVPGANCore
import XCTest

/// The same inputs give bit-identical outputs at any thread count. OpenBLAS's results depend on
/// the shape of each GEMM call, so this holds only because `parallelBlocks` splits work by its
/// size, never by the number of threads (found on a Zen 3 machine, where splitting a GEMM in
/// two changed portraits' pixels).
final class ThreadCountTests: XCTestCase {
    override func tearDown() { try? Threads.set(0) }

    func testEmbeddingsAndFacesDoNotDependOnTheThreadCount() throws {
        let features: [Float] = (0..<(800 * 64)).map { Float(($0 * 7919) % 211) / 105 - 1 }
        for arch in Fixtures.architectures {
            let model = try Model(path: "\(Fixtures.golden(arch))/model.safetensors")
            let e = model.embedDim, n = 6
            let embeddings = (0..<n).flatMap { SeededEmbedding.make(seed: UInt64($0), dimension: e) }
            var reference: [Float] = []
            for threads in [1, 2, 3, 5] {
                try Threads.set(threads)
                var out = [Float](repeating: 0, count: n * model.imageFloats)
                try model.generate(embeddings: embeddings, count: n, embedDim: e, into: &out)
                var voice = [Float](repeating: 0, count: e)
                try model.embed(features: features, frames: 800, melBands: 64, into: &voice)
                if threads == 1 { reference = out + voice; continue }
                let got = out + voice
                let first = got.indices.first { got[$0].bitPattern != reference[$0].bitPattern }
                XCTAssertNil(first, "\(arch): \(threads) threads differ from 1 thread at output \(first ?? -1)")
            }
        }
    }
}
