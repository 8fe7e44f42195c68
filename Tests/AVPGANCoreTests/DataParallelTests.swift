@testable import AVPGANCore
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// An in-process stand-in for MPI_Allreduce(SUM): `size` threads deposit their buffers, each
/// adds all of them in rank order (the same result on every rank), and a second barrier keeps
/// the deposits until everyone has read them.
final class ThreadReducer: GradientReducer, @unchecked Sendable {
    let rank: Int
    let size: Int
    private let shared: Shared

    final class Shared: @unchecked Sendable {
        var barrier = pthread_barrier_t()
        var slots: [[Float]]
        init(size: Int) {
            slots = Array(repeating: [], count: size)
            pthread_barrier_init(&barrier, nil, UInt32(size))
        }
        deinit { pthread_barrier_destroy(&barrier) }
    }

    static func group(_ size: Int) -> [ThreadReducer] {
        let shared = Shared(size: size)
        return (0..<size).map { ThreadReducer(rank: $0, size: size, shared: shared) }
    }

    private init(rank: Int, size: Int, shared: Shared) {
        self.rank = rank
        self.size = size
        self.shared = shared
    }

    func sum(_ values: UnsafeMutablePointer<Float>, count: Int) throws {
        shared.slots[rank] = Array(UnsafeBufferPointer(start: values, count: count))
        pthread_barrier_wait(&shared.barrier)
        var total = [Float](repeating: 0, count: count)
        for slot in shared.slots {
            guard slot.count == count else { throw AVPGANError.invalid("ranks reduced different counts") }
            for i in 0..<count { total[i] += slot[i] }
        }
        pthread_barrier_wait(&shared.barrier)
        values.update(from: total, count: count)
    }

    /// Runs `body(rank, reducer)` on two threads, one per rank, and returns the results in rank order.
    static func onTwoRanks<T>(_ body: @escaping (Int, ThreadReducer) throws -> T) throws -> [T] {
        let reducers = group(2)
        nonisolated(unsafe) var results: [Result<T, Error>] = Array(repeating: .failure(AVPGANError.invalid("not run")), count: 2)
        DispatchQueue.concurrentPerform(iterations: 2) { rank in results[rank] = Result { try body(rank, reducers[rank]) } }
        return try results.map { try $0.get() }
    }
}

/// Data-parallel training: two ranks on halves of a global batch train as one process on the
/// whole batch, to float summation order; ranks in different states are refused.
final class DataParallelTests: XCTestCase {
    func checkpoint() throws -> TrainingCheckpoint {
        let file = try Safetensors(bytes: try FileIO.read("\(Fixtures.golden("avpgan"))/model-sn-stored.safetensors"))
        let config = try ModelConfig.parse(metadata: file.metadata)
        var tensors: [String: [Float]] = [:]
        for e in file.entries { tensors[e.name] = try file.floats(e) }
        var m: [String: [Float]] = [:], v: [String: [Float]] = [:]
        for t in TrainingCheckpoint.trainedParameters(config) {
            let n = t.shape.reduce(1, *)
            m[t.name] = [Float](repeating: 0, count: n)
            v[t.name] = [Float](repeating: 0, count: n)
        }
        return TrainingCheckpoint(config: config, tensors: tensors, exp_avg: m, exp_avg_sq: v, step: 0, adamStep: 0, rng: 1)
    }

    struct Batch {
        var voices: [Float], faces: [Float], voiceLabels: [Int], faceLabels: [Int], noise: [Float]
        let n: Int, frames: Int, face: Int, e: Int
        func rows(_ r: Range<Int>) -> Batch {
            Batch(voices: Array(voices[(r.lowerBound * frames * 64)..<(r.upperBound * frames * 64)]),
                  faces: Array(faces[(r.lowerBound * face)..<(r.upperBound * face)]),
                  voiceLabels: Array(voiceLabels[r]), faceLabels: Array(faceLabels[r]),
                  noise: Array(noise[(r.lowerBound * e)..<(r.upperBound * e)]), n: r.count, frames: frames, face: face, e: e)
        }
    }

    func batches(_ config: ModelConfig, n: Int, count: Int) -> [Batch] {
        var rng = SplitMix(seed: 42)
        let frames = 120, face = 3 * config.imageSize * config.imageSize, e = config.embedDim
        return (0..<count).map { _ in
            Batch(voices: (0..<(n * frames * 64)).map { _ in rng.gaussian() },
                  faces: (0..<(n * face)).map { _ in max(-1, min(1, rng.gaussian() * 0.5)) },
                  voiceLabels: (0..<n).map { _ in Int(rng.next() % UInt64(config.identities)) },
                  faceLabels: (0..<n).map { _ in Int(rng.next() % UInt64(config.identities)) },
                  noise: (0..<(n * e)).map { _ in 0.05 * rng.gaussian() }, n: n, frames: frames, face: face, e: e)
        }
    }

    func testTwoRanksTrainAsOneOnTheWholeBatch() throws {
        let start = try checkpoint()
        let data = batches(start.config, n: 7, count: 3)  // 7 rows: ranks take 4 and 3
        let single = try TrainingRun(checkpoint: start)
        var expected: [[Float]] = []
        for b in data {
            expected.append(try single.ganStep(voices: b.voices, frames: b.frames, voiceLabels: b.voiceLabels,
                                               faces: b.faces, faceLabels: b.faceLabels, noise: b.noise))
        }
        let reducers = ThreadReducer.group(2)
        let runs = try (0..<2).map { _ in try TrainingRun(checkpoint: start) }
        nonisolated(unsafe) var results: [Result<[[Float]], Error>] = [.success([]), .success([])]
        DispatchQueue.concurrentPerform(iterations: 2) { rank in
            results[rank] = Result {
                try runs[rank].distribute(over: reducers[rank], fingerprint: "test")
                return try data.map { whole in
                    let b = whole.rows(BatchSlice.rows(batch: whole.n, rank: rank, size: 2))
                    return try runs[rank].ganStep(voices: b.voices, frames: b.frames, voiceLabels: b.voiceLabels,
                                                  faces: b.faces, faceLabels: b.faceLabels, noise: b.noise)
                }
            }
        }
        let losses = try results.map { try $0.get() }
        XCTAssertEqual(losses[0], losses[1], "both ranks report the same (global) losses")
        for (step, (got, want)) in zip(losses[0], expected).enumerated() {
            for k in 0..<5 {
                XCTAssertLessThan(abs(got[k] - want[k]) / max(abs(want[k]), 1e-6), 1e-4,
                                  "step \(step + 1) loss \(TrainingRun.lossNames[k]): 2 ranks \(got[k]), 1 rank \(want[k])")
            }
        }
        let a = runs[0].checkpoint(), b = runs[1].checkpoint(), one = single.checkpoint()
        XCTAssertEqual(a.tensors, b.tensors, "the ranks' weights (and spectral-norm vectors) stay identical")
        for (name, w) in one.tensors {
            let d = zip(w, a.tensors[name]!).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThan(d, 1e-4, "\(name) differs from the one-process run by \(d)")
        }
        XCTAssertEqual(single.health.spread.isNaN, runs[0].health.spread.isNaN)
        XCTAssertEqual(Double(runs[0].health.spread), Double(single.health.spread), accuracy: 1e-5,
                       "the health monitor judges the whole batch's spread")
    }

    func testRanksInDifferentStatesAreRefused() throws {
        let start = try checkpoint()
        var other = start
        other.step = 5
        let reducers = ThreadReducer.group(2)
        let runs = [try TrainingRun(checkpoint: start), try TrainingRun(checkpoint: other)]
        nonisolated(unsafe) var errors: [String] = ["", ""]
        DispatchQueue.concurrentPerform(iterations: 2) { rank in
            do { try runs[rank].distribute(over: reducers[rank], fingerprint: "same") } catch { errors[rank] = "\(error)" }
        }
        for (rank, message) in errors.enumerated() {
            XCTAssertTrue(message.contains("different arguments, data or checkpoints"), "rank \(rank): \(message)")
        }
        let sameStart = ThreadReducer.group(2)
        let twins = [try TrainingRun(checkpoint: start), try TrainingRun(checkpoint: start)]
        DispatchQueue.concurrentPerform(iterations: 2) { rank in
            do { try twins[rank].distribute(over: sameStart[rank], fingerprint: "args \(rank)") } catch { errors[rank] = "\(error)" }
        }
        XCTAssertTrue(errors.allSatisfy { $0.contains("different arguments") }, "different fingerprints are refused: \(errors)")
    }

    func testBatchSlices() {
        XCTAssertEqual((0..<3).map { BatchSlice.rows(batch: 8, rank: $0, size: 3) }, [0..<3, 3..<6, 6..<8])
        XCTAssertEqual((0..<2).map { BatchSlice.rows(batch: 64, rank: $0, size: 2) }, [0..<32, 32..<64])
        XCTAssertEqual(BatchSlice.rows(batch: 1, rank: 1, size: 2).count, 0)
    }
}
