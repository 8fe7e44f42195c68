import AVPGANCore
import CAVPGAN

/// The C host's communicator as the core's `GradientReducer`: the `allreduce` field of
/// `avpgan_trainer_params`, `avpgan_voice_training_params`, `avpgan_enhancer_trainer_params` or
/// `avpgan_prior_trainer_params`, with its user data, rank and number of ranks.
final class CallbackReducer: GradientReducer {
    let rank: Int
    let size: Int
    private let allreduce: avpgan_allreduce_fn
    private let userData: UnsafeMutableRawPointer?

    /// The reducer `p` asks for, nil when it trains alone (n_ranks 0 or 1); throws on a params
    /// struct that asks for ranks without saying how to reach them.
    static func from(_ p: avpgan_trainer_params) throws -> CallbackReducer? {
        try from(allreduce: p.allreduce, userData: p.allreduce_user_data, rank: p.rank, ranks: p.n_ranks)
    }

    static func from(_ p: avpgan_voice_training_params) throws -> CallbackReducer? {
        try from(allreduce: p.allreduce, userData: p.allreduce_user_data, rank: p.rank, ranks: p.n_ranks)
    }

    static func from(_ p: avpgan_enhancer_trainer_params) throws -> CallbackReducer? {
        try from(allreduce: p.allreduce, userData: p.allreduce_user_data, rank: p.rank, ranks: p.n_ranks)
    }

    static func from(_ p: avpgan_prior_trainer_params) throws -> CallbackReducer? {
        try from(allreduce: p.allreduce, userData: p.allreduce_user_data, rank: p.rank, ranks: p.n_ranks)
    }

    private static func from(allreduce: avpgan_allreduce_fn?, userData: UnsafeMutableRawPointer?, rank: UInt32,
                             ranks: UInt32) throws -> CallbackReducer? {
        guard ranks >= 2 else { return nil }
        guard let fn = allreduce else {
            throw AVPGANError(.invalidArgument, "params.n_ranks is \(ranks) but params.allreduce is NULL; data-parallel training needs the host's allreduce")
        }
        guard rank < ranks else {
            throw AVPGANError(.invalidArgument, "params.rank is \(rank), expected 0...\(ranks - 1) for \(ranks) ranks")
        }
        return CallbackReducer(rank: Int(rank), size: Int(ranks), allreduce: fn, userData: userData)
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
