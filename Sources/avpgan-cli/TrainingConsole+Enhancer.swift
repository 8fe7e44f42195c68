import AVPGANCore
#if canImport(Glibc)
import Glibc
#endif

/// What `avpgan train-enhancer` and `train-prior` add to `TrainingConsole`: for data-parallel
/// runs under mpirun/srun, one copy of their lines and the line saying how each batch is shared
/// out; and how a run's end is told, with its exit status.
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

    /// The exit status of a face training `command` ("train-prior") that ended with `outcome`
    /// at `step`: 3 after a non-finite loss (saying that no `file`, "prior", was written), 130
    /// after a stop (saying how to resume), and on finishing 0 after `export()` (which writes
    /// the file and says so).
    func finish(_ outcome: TrainingSessionOutcome, command: String, file: String, step: Int, checkpointPath: String?,
                export: () throws -> Void) rethrows -> Int32 {
        switch outcome {
        case .diverged(let step, let message, _):
            fputs("avpgan: \(command) stopped at step \(step): a loss is not finite: \(message). No \(file) was written; lower --lr or check the faces.\n", stderr)
            return 3
        case .stopped:
            sayStopped(at: step, checkpointPath: checkpointPath)
            return 130
        case .finished:
            try export()
            return 0
        }
    }
}
