import AVPGANCore
import CAVPGAN

/// The C host's communicator as the core's `GradientReducer`: `avpgan_trainer_params.allreduce`
/// with its user data, rank and number of ranks.
final class CallbackReducer: GradientReducer {
    let rank: Int
    let size: Int
    private let allreduce: avpgan_allreduce_fn
    private let userData: UnsafeMutableRawPointer?

    /// The reducer `p` asks for, nil when it trains alone (n_ranks 0 or 1); throws on a params
    /// struct that asks for ranks without saying how to reach them.
    static func from(_ p: avpgan_trainer_params) throws -> CallbackReducer? {
        guard p.n_ranks >= 2 else { return nil }
        guard let fn = p.allreduce else {
            throw AVPGANError(.invalidArgument, "params.n_ranks is \(p.n_ranks) but params.allreduce is NULL; data-parallel training needs the host's allreduce")
        }
        guard p.rank < p.n_ranks else {
            throw AVPGANError(.invalidArgument, "params.rank is \(p.rank), expected 0...\(p.n_ranks - 1) for \(p.n_ranks) ranks")
        }
        return CallbackReducer(rank: Int(p.rank), size: Int(p.n_ranks), allreduce: fn, userData: p.allreduce_user_data)
    }

    private init(rank: Int, size: Int, allreduce: avpgan_allreduce_fn, userData: UnsafeMutableRawPointer?) {
        self.rank = rank
        self.size = size
        self.allreduce = allreduce
        self.userData = userData
    }

    func sum(_ values: UnsafeMutablePointer<Float>, count: Int) throws {
        let status = allreduce(values, count, userData)
        guard status == 0 else {
            throw AVPGANError(.io, "the allreduce callback returned \(status) (rank \(rank) of \(size)); the ranks' states may now differ, so end the job")
        }
    }
}
