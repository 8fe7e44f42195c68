@testable import AVPGANCore
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// A model is immutable: eight threads sharing one give the results of a sequential run.
final class ConcurrencyTests: XCTestCase {
    final class Job: @unchecked Sendable {
        let model: Model
        let input: [Float]
        let n: Int
        var output: [Float] = []
        var error: Error?

        init(model: Model, input: [Float], n: Int) { self.model = model; self.input = input; self.n = n }

        func run() {
            do {
                var out = [Float](repeating: 0, count: n * model.imageFloats)
                for _ in 0..<3 { try model.generate(embeddings: input, count: n, embedDim: model.embedDim, into: &out) }
                var e = [Float](repeating: 0, count: model.embedDim)
                let features: [Float] = (0..<(50 * 64)).map { (i: Int) -> Float in Float((i * 7919) % 101) / 50 - 1 }
                try model.embed(features: features, frames: 50, melBands: 64, into: &e)
                output = out + e
            } catch { self.error = error }
        }
    }

    func testEightThreadsShareOneModel() throws {
        let model = try Model(path: "\(Fixtures.golden("avpgan"))/model.safetensors")
        let jobs = (0..<8).map { i in
            Job(model: model, input: (0..<(3 * model.embedDim)).map { (j: Int) -> Float in Float((j + i * 13) % 17) / 17 - 0.5 }, n: 3)
        }
        let sequential = jobs.map { j -> [Float] in
            let copy = Job(model: j.model, input: j.input, n: j.n)
            copy.run()
            return copy.output
        }
        var threads: [pthread_t] = []
        for job in jobs {
            var t = pthread_t()
            let raw = Unmanaged.passRetained(job).toOpaque()
            XCTAssertEqual(pthread_create(&t, nil, { p in
                let job = Unmanaged<Job>.fromOpaque(p!).takeRetainedValue()
                job.run()
                return nil
            }, raw), 0)
            threads.append(t)
        }
        for t in threads { pthread_join(t, nil) }
        for (i, job) in jobs.enumerated() {
            XCTAssertNil(job.error, "thread \(i) failed: \(String(describing: job.error))")
            XCTAssertEqual(job.output, sequential[i], "thread \(i) differs from the sequential run")
        }
    }
}
