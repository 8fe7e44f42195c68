@testable import AVPGANCore
import XCTest

/// Data-parallel voice-encoder pre-training with synchronised BatchNorm: two ranks on their
/// rows of each global batch (two in-process `ThreadReducer`s) train as one process on the
/// whole batch, to float summation order; the layer itself matches the one-process layer.
final class VoiceDataParallelTests: XCTestCase {
    static let config = ModelConfig.voiceEncoderOnly(embedDim: 16, voiceWidths: [32, 48, 64, 96])
    static let speakers = 5

    /// `count` batches of `n` crops of `frames` frames each (one length per batch, as the sampler).
    func batches(n: Int, frames: [Int]) -> [(voices: [Float], labels: [Int], frames: Int)] {
        var rng = SplitMix(seed: 11)
        return frames.map { t in
            // An offset per band, so the BatchNorm inputs have means well away from zero.
            ((0..<(n * t * 64)).map { i in rng.gaussian() + Float(i % 64) * 0.05 },
             (0..<n).map { _ in Int(rng.next() % UInt64(Self.speakers)) }, t)
        }
    }

    func trainer() throws -> VoiceEncoderPretrainer {
        try VoiceEncoderPretrainer(config: Self.config, speakers: Self.speakers,
                                   tensors: VoiceEncoderPretrainer.initialTensors(config: Self.config, speakers: Self.speakers, seed: 7),
                                   lr: 1e-3)
    }

    func embeddings(_ t: VoiceEncoderPretrainer) throws -> [Float] {
        let model = try Model(bytes: try t.checkpoint(step: 3, rng: 0, speakers: (0..<Self.speakers).map { "s\($0)" }).exportModel())
        let features: [Float] = (0..<(300 * 64)).map { Float(($0 * 7919) % 1009) / 504.5 - 1 }
        var e = [Float](repeating: 0, count: 16)
        try model.embed(features: features, frames: 300, melBands: 64, into: &e)
        return e
    }

    /// The whole batch's gradients on every rank; then 3 Adam steps: the same losses and, through
    /// the exported encoder, the same embedding. (Weights are not compared one by one after
    /// Adam: a near-zero gradient whose last bits differ can flip the sign of Adam's first
    /// updates, lr x step apart, without changing what the network computes.)
    func testTwoRanksTrainAsOneOnTheWholeBatch() throws {
        let data = batches(n: 7, frames: [90, 61, 75, 80])  // 7 crops: the ranks take 4 and 3
        let single = try trainer()
        let first = data[0]
        let expectedFirst = try first.voices.withUnsafeBufferPointer { try single.gradients(voices: $0.baseAddress!, frames: first.frames, labels: first.labels) }
        let wholeGradients = single.parameters.map { ($0.name, $0.grad.array) }
        let expected = try data.dropFirst().map { b in try b.voices.withUnsafeBufferPointer { try single.step(voices: $0.baseAddress!, frames: b.frames, labels: b.labels) } }
        let reducers = ThreadReducer.group(2)
        let ranks = try (0..<2).map { _ in try trainer() }
        nonisolated(unsafe) var results: [Result<[(loss: Float, correct: Int)], Error>] = [.success([]), .success([])]
        nonisolated(unsafe) var rankGradients: [[[Float]]] = [[], []]
        DispatchQueue.concurrentPerform(iterations: 2) { rank in
            results[rank] = Result {
                ranks[rank].distribute(over: reducers[rank], globalBatch: 7)
                let rows = BatchSlice.rows(batch: 7, rank: rank, size: 2)
                func mine(_ b: (voices: [Float], labels: [Int], frames: Int)) -> [Float] {
                    Array(b.voices[(rows.lowerBound * b.frames * 64)..<(rows.upperBound * b.frames * 64)])
                }
                let g = try mine(first).withUnsafeBufferPointer {
                    try ranks[rank].gradients(voices: $0.baseAddress!, frames: first.frames, labels: Array(first.labels[rows]))
                }
                rankGradients[rank] = ranks[rank].parameters.map { $0.grad.array }
                return try [g] + data.dropFirst().map { b in
                    try mine(b).withUnsafeBufferPointer {
                        try ranks[rank].step(voices: $0.baseAddress!, frames: b.frames, labels: Array(b.labels[rows]))
                    }
                }
            }
        }
        let got = try results.map { try $0.get() }
        XCTAssertEqual(rankGradients[0], rankGradients[1], "both ranks hold the whole batch's gradients")
        for ((name, want), have) in zip(wholeGradients, rankGradients[0]) {
            let scale = want.map { abs($0) }.max()!, d = zip(want, have).map { abs($0 - $1) }.max()!
            XCTAssertLessThanOrEqual(d, 1e-4 * scale, "\(name): gradient differs by \(d) (largest |gradient| \(scale))")
        }
        for (step, want) in ([expectedFirst] + expected).enumerated() {
            XCTAssertEqual(got[0][step].loss, got[1][step].loss, "step \(step + 1): both ranks report the whole batch's loss")
            XCTAssertEqual(got[0][step].correct, want.correct, "step \(step + 1): correct crops of the whole batch")
            XCTAssertLessThan(abs(got[0][step].loss - want.loss) / abs(want.loss), 1e-4, "step \(step + 1) loss: 2 ranks \(got[0][step].loss), 1 process \(want.loss)")
        }
        XCTAssertEqual(ranks[0].tensors, ranks[1].tensors, "the ranks' weights and running statistics stay identical")
        let (one, two) = (try embeddings(single), try embeddings(ranks[0]))
        let diff = zip(one, two).map { abs($0 - $1) }.max()!
        XCTAssertLessThan(diff, 1e-3, "the exported encoders' embeddings differ by \(diff)")
    }

    /// The layer alone: the ranks' halves normalise with the whole batch's statistics, and the
    /// backward's input gradient is the one-process layer's, on inputs with a large mean.
    func testSynchronisedBatchNormIsTheWholeBatchLayer() throws {
        let (c, n, w) = (3, 5, 4)
        var rng = SplitMix(seed: 5)
        let x = (0..<(c * n * w)).map { _ in 100 + rng.gaussian() }, dy = (0..<(c * n * w)).map { _ in rng.gaussian() }
        let gamma: [Float] = [1, 0.5, 2], beta: [Float] = [0, 1, -1]
        func run(_ rows: Range<Int>, _ ranks: BatchNormTraining.Ranks?) throws -> (y: [Float], dx: [Float], rm: [Float], rv: [Float], dg: [Float]) {
            // CNHW rows of the batch.
            let pick = { (v: [Float]) in (0..<c).flatMap { ch in v[(ch * n + rows.lowerBound) * w..<(ch * n + rows.upperBound) * w] } }
            var input = pick(x), grad = pick(dy), y = [Float](repeating: 0, count: input.count)
            var rm = [Float](repeating: 0, count: c), rv = [Float](repeating: 1, count: c), stats = [Float](repeating: 0, count: 2 * c)
            var dg = [Float](repeating: 0, count: c), db = dg, tracked = 0
            let bn = BatchNormTraining(channels: c)
            try input.withUnsafeMutableBufferPointer { xp in try y.withUnsafeMutableBufferPointer { yp in try grad.withUnsafeMutableBufferPointer { gp in
                let xm = FeatureMap(data: xp.baseAddress!, channels: c, batch: rows.count, height: 1, width: w)
                let ym = FeatureMap(data: yp.baseAddress!, channels: c, batch: rows.count, height: 1, width: w)
                let gm = FeatureMap(data: gp.baseAddress!, channels: c, batch: rows.count, height: 1, width: w)
                try stats.withUnsafeMutableBufferPointer { s in
                    if let ranks {
                        try bn.forward(xm, into: ym, gamma: gamma, beta: beta, runningMean: &rm, runningVar: &rv, numBatchesTracked: &tracked,
                                       saveMean: s.baseAddress!, saveInvStd: s.baseAddress! + c, across: ranks)
                        try bn.backward(input: xm, gradOutput: gm, gradInput: gm, gamma: gamma, saveMean: s.baseAddress!, saveInvStd: s.baseAddress! + c,
                                        gradGamma: &dg, gradBeta: &db, across: ranks)
                    } else {
                        bn.forward(xm, into: ym, gamma: gamma, beta: beta, runningMean: &rm, runningVar: &rv, numBatchesTracked: &tracked,
                                   saveMean: s.baseAddress!, saveInvStd: s.baseAddress! + c)
                        bn.backward(input: xm, gradOutput: gm, gradInput: gm, gamma: gamma, saveMean: s.baseAddress!, saveInvStd: s.baseAddress! + c,
                                    gradGamma: &dg, gradBeta: &db)
                    }
                }
            } } }
            return (y, grad, rm, rv, dg)
        }
        let whole = try run(0..<n, nil)
        let reducers = ThreadReducer.group(2)
        nonisolated(unsafe) var parts: [Result<(y: [Float], dx: [Float], rm: [Float], rv: [Float], dg: [Float]), Error>] = []
        parts = [.failure(AVPGANError.invalid("not run")), .failure(AVPGANError.invalid("not run"))]
        DispatchQueue.concurrentPerform(iterations: 2) { rank in
            parts[rank] = Result {
                var scratch = [Float](repeating: 0, count: 2 * c + 1)
                return try scratch.withUnsafeMutableBufferPointer {
                    try run(BatchSlice.rows(batch: n, rank: rank, size: 2),
                            BatchNormTraining.Ranks(reducer: reducers[rank], count: n * w, scratch: $0.baseAddress!))
                }
            }
        }
        let a = try parts[0].get(), b = try parts[1].get()
        for ch in 0..<c {
            let rows = [BatchSlice.rows(batch: n, rank: 0, size: 2), BatchSlice.rows(batch: n, rank: 1, size: 2)]
            let joinedY = Array(a.y[(ch * rows[0].count * w)..<((ch + 1) * rows[0].count * w)]) + Array(b.y[(ch * rows[1].count * w)..<((ch + 1) * rows[1].count * w)])
            let joinedDx = Array(a.dx[(ch * rows[0].count * w)..<((ch + 1) * rows[0].count * w)]) + Array(b.dx[(ch * rows[1].count * w)..<((ch + 1) * rows[1].count * w)])
            let wantY = Array(whole.y[(ch * n * w)..<((ch + 1) * n * w)]), wantDx = Array(whole.dx[(ch * n * w)..<((ch + 1) * n * w)])
            XCTAssertLessThan(zip(joinedY, wantY).map { abs($0 - $1) }.max()!, 1e-4, "channel \(ch): normalised output")
            XCTAssertLessThan(zip(joinedDx, wantDx).map { abs($0 - $1) }.max()!, 1e-4, "channel \(ch): input gradient")
            XCTAssertEqual(a.dg[ch] + b.dg[ch], whole.dg[ch], accuracy: 1e-4, "channel \(ch): the ranks' dGamma shares add to the whole")
        }
        XCTAssertEqual(a.rm, b.rm, "running means identical on both ranks")
        XCTAssertEqual(a.rv, b.rv, "running variances identical on both ranks")
        for ch in 0..<c {
            XCTAssertEqual(a.rm[ch], whole.rm[ch], accuracy: 1e-4, "running mean, channel \(ch)")
            XCTAssertEqual(a.rv[ch], whole.rv[ch], accuracy: 1e-4 * whole.rv[ch], "running (unbiased) variance, channel \(ch)")
        }
    }
}
