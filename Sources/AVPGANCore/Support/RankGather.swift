/// Gathers bytes from every rank onto rank 0 through a sum-only `GradientReducer` (the one
/// transport the library asks of its hosts: MPI_Allreduce, a C callback, a test double), for
/// work shared out among ranks whose results one rank reports (`avpgan eval` under mpirun).
///
/// Exact: each float carries 3 bytes as an integer below 2^24, which a float holds exactly, and
/// every position is non-zero on at most one rank, so the sums are the values themselves. The
/// counts travel as 16-bit pieces. The payload goes through in pieces of at most
/// `pieceFloats`, so no rank holds more than one piece of the others' data beside its own;
/// rank 0 ends with everything. On the wire that is 4/3 of the bytes, summed over the ranks
/// (an allreduce does the work of a gather plus a broadcast): fine for results, not for bulk.
public enum RankGather {
    static let pieceFloats = 1 << 22

    /// Every rank's `mine`, in rank order, on rank 0; an empty array on the other ranks.
    /// Collective: every rank calls it at the same point.
    public static func toRoot(_ mine: [UInt8], reducer: GradientReducer) throws -> [[UInt8]] {
        let size = reducer.size, rank = reducer.rank
        guard size >= 1, (0..<size).contains(rank) else { throw AVPGANError.invalid("rank \(rank) of \(size) is not a rank") }
        guard UInt64(mine.count) < 1 << 48 else { throw AVPGANError.invalid("\(mine.count) bytes are too many to gather") }
        // Byte counts: 3 pieces of 16 bits per rank.
        var counts = [Float](repeating: 0, count: 3 * size)
        for k in 0..<3 { counts[3 * rank + k] = Float((UInt64(mine.count) >> (16 * UInt64(k))) & 0xFFFF) }
        try counts.withUnsafeMutableBufferPointer { try reducer.sum($0.baseAddress!, count: $0.count) }
        let sizes = (0..<size).map { r in (0..<3).reduce(0) { $0 | Int(counts[3 * r + $1]) << (16 * $1) } }
        guard sizes[rank] == mine.count else {
            throw AVPGANError.invalid("gathering results: rank \(rank) holds \(mine.count) bytes, the ranks' sum says \(sizes[rank]); was another rank's count sent twice?")
        }
        // Each rank's bytes start a new float, so a float never mixes two ranks.
        let floats = sizes.map { ($0 + 2) / 3 }
        let starts = floats.indices.map { r in floats[..<r].reduce(0, +) }
        let total = floats.reduce(0, +)
        var out: [[UInt8]] = rank == 0 ? sizes.map { [UInt8](repeating: 0, count: $0) } : []
        var piece = [Float](repeating: 0, count: min(max(total, 1), pieceFloats))
        var at = 0
        while at < total {
            let n = min(pieceFloats, total - at)
            for i in 0..<n { piece[i] = 0 }
            // My floats that fall into [at, at + n).
            let lo = max(at, starts[rank]), hi = min(at + n, starts[rank] + floats[rank])
            if lo < hi {
                for f in lo..<hi {
                    let b = 3 * (f - starts[rank])
                    var v: UInt32 = 0
                    for k in 0..<3 where b + k < mine.count { v |= UInt32(mine[b + k]) << (8 * UInt32(k)) }
                    piece[f - at] = Float(v)
                }
            }
            try piece.withUnsafeMutableBufferPointer { try reducer.sum($0.baseAddress!, count: n) }
            if rank == 0 {
                for r in 0..<size {
                    let lo = max(at, starts[r]), hi = min(at + n, starts[r] + floats[r])
                    guard lo < hi else { continue }
                    for f in lo..<hi {
                        let v = UInt32(piece[f - at]), b = 3 * (f - starts[r])
                        for k in 0..<3 where b + k < sizes[r] { out[r][b + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(k))) }
                    }
                }
            }
            at += n
        }
        return out
    }
}
