/// Data-parallel training across processes ("ranks"): every rank draws the same global batch
/// (the sampler and the noise are seeded alike), computes the losses and gradients of its own
/// slice of it, and the ranks add their slice-weighted gradients before every optimizer step,
/// so every rank applies the gradient of the whole global batch and the weights stay identical.
/// Spectral norm's power iteration depends on the weights only, so it stays identical too.
///
/// The transport is the host's: MPI, NCCL, Gloo, or a test double. The library links none.
public protocol GradientReducer: AnyObject {
    /// This process's index, 0..<size.
    var rank: Int { get }
    /// Number of processes.
    var size: Int { get }
    /// Replaces `values[0..<count]` by their element-wise sum over all ranks: every rank calls
    /// it with the same `count` at the same point, and every rank gets the same result.
    func sum(_ values: UnsafeMutablePointer<Float>, count: Int) throws
}

extension GradientReducer {
    /// Whether any rank says yes (collective: every rank asks at the same point). A stop request
    /// reaches the ranks at different moments; agreeing before each step stops all of them
    /// after the same step.
    public func anyRank(_ mine: Bool) throws -> Bool {
        var flag: Float = mine ? 1 : 0
        try sum(&flag, count: 1)
        return flag > 0
    }
}

/// Which rows of a global batch a rank computes.
public enum BatchSlice {
    /// Rows `lo..<hi` of a batch of `batch` for `rank` of `size`: contiguous, as equal as can be
    /// (the first `batch % size` ranks take one more). Empty when `size > batch`.
    public static func rows(batch: Int, rank: Int, size: Int) -> Range<Int> {
        precondition(size >= 1 && (0..<size).contains(rank) && batch >= 0)
        let base = batch / size, extra = batch % size
        let lo = rank * base + min(rank, extra)
        return lo..<(lo + base + (rank < extra ? 1 : 0))
    }
}

extension TrainingBatch {
    /// The rows `rows` of this batch (voices, faces and labels alike).
    func slice(_ rows: Range<Int>) -> TrainingBatch {
        let voice = frames * LogMelExtractor.bands, face = faces.count / max(n, 1)
        return TrainingBatch(voices: Array(voices[(rows.lowerBound * voice)..<(rows.upperBound * voice)]),
                             voiceLabels: Array(voiceLabels[rows]),
                             faces: Array(faces[(rows.lowerBound * face)..<(rows.upperBound * face)]),
                             faceLabels: Array(faceLabels[rows]), n: rows.count, frames: frames)
    }
}

/// Packs gradients into one contiguous buffer for one reduction per optimizer step, scaled by
/// the rank's share of the global batch (local mean x local rows / global rows), and unpacks
/// the sums: the mean gradient over the whole global batch.
final class GradientPacker {
    private var buffer: FloatStorage?

    func reduce(_ parameters: [TrainedParameter], extra: UnsafeMutablePointer<Float>? = nil, extraCount: Int = 0,
                weight: Float, with reducer: GradientReducer) throws {
        let total = parameters.reduce(extraCount) { $0 + $1.count }
        if buffer == nil || buffer!.count < total { buffer = try FloatStorage(count: total) }
        let flat = buffer!.pointer
        var at = 0
        flat.update(repeating: 0, count: total)
        for p in parameters {
            BLAS.axpy(p.count, alpha: weight, x: p.grad.pointer, y: flat + at)
            at += p.count
        }
        if let extra { flat.advanced(by: at).update(from: extra, count: extraCount) }
        try reducer.sum(flat, count: total)
        at = 0
        for p in parameters {
            p.grad.pointer.update(from: flat + at, count: p.count)
            at += p.count
        }
        if let extra { extra.update(from: flat + at, count: extraCount) }
    }
}
