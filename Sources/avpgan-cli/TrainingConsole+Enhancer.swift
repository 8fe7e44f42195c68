import AVPGANCore
#if canImport(Glibc)
import Glibc
#endif

/// What `avpgan train-enhancer` and `train-prior` add to `TrainingConsole` for data-parallel
/// runs under mpirun/srun: one copy of their lines, and the line saying how each batch is shared out.
extension TrainingConsole {
    /// On every rank but 0, standard output goes to /dev/null, so that the command's lines are
    /// printed once (errors still reach standard error from any rank).
    func silenceFollowers() {
        if !lead { _ = freopen("/dev/null", "w", stdout) }
    }

    /// How `session`'s batches are shared out over the ranks (nothing alone).
    func sayShared(enhancer session: EnhancerTrainingSession) {
        guard let group else { return }
        sayShared(faces: session.rows.count, of: session.batchSize, group: group)
    }

    /// How `session`'s batches are shared out over the ranks (nothing alone).
    func sayShared(prior session: PriorTrainingSession) {
        guard let group else { return }
        sayShared(faces: session.rows.count, of: session.batchSize, group: group)
    }

    private func sayShared(faces: Int, of batch: Int, group: MPIProcessGroup) {
        say("data-parallel over \(group.size) ranks (MPI, \(group.library)): each step's batch of \(batch) is shared out, \(faces) faces on rank 0 (each of the face discriminator's groups whole on one rank)")
    }
}
