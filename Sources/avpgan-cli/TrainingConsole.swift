import AVPGANCore
#if canImport(Glibc)
import Glibc
#endif

/// What the training commands (`train`, `train-voice`, `train-enhancer`, `train-prior`) share
/// around their session: the MPI
/// group they may run in (rank 0 prints, `say`), Ctrl-C as a stop at the end of the step
/// (`stopRequested`), and the lines they print about progress, ranks and a stop.
struct TrainingConsole {
    /// The ranks of an mpirun/srun job, nil in a single process. Left with MPI_Finalize by main
    /// after a normal return; any failure aborts the job (`fail`).
    let group: MPIProcessGroup?
    /// This process prints (rank 0, or the only process).
    let lead: Bool
    /// Progress goes to stderr, redrawn in place: rank 0 on a terminal.
    let tty: Bool

    /// Joins the MPI job this process was launched in, if any.
    init() throws {
        group = try MPIProcessGroup.joinIfLaunched()
        lead = (group?.rank ?? 0) == 0
        tty = lead && isatty(STDERR_FILENO) == 1
    }

    /// Prints `line` on stdout from rank 0 only.
    func say(_ line: String) { if lead { print(line) } }

    /// Fails (exit `code`) unless `--resume` has the checkpoint `name` in `--checkpoint-dir` to
    /// resume from.
    static func requireCheckpoint(resume: Bool, directory: String?, name: String, code: Int32 = 1) {
        if resume, directory.map({ access("\($0)/\(name)", R_OK) != 0 }) ?? true {
            fail("--resume needs --checkpoint-dir D holding \(name)", code: code)
        }
    }

    /// SIGINT and SIGTERM set `stopRequested`: the session checkpoints and stops after the step.
    static func stopOnSignals() {
        signal(SIGINT) { _ in stopRequested = 1 }
        signal(SIGTERM) { _ in stopRequested = 1 }
    }

    /// The start of a progress line: step, speed and the time left at that speed.
    static func progress(step: Int, of steps: Int, stepsPerSecond: Double) -> String {
        let eta = Double(steps - step) / max(stepsPerSecond, 1e-9)
        return "\rstep \(step)/\(steps)  \(fixed(stepsPerSecond, 2)) steps/s  ETA \(Int(eta)) s  "
    }

    /// How a batch of `batch` is shared out over the ranks (`rows`: what one row is called;
    /// `note` ends the line).
    func sayShared(batch: Int, rows: String, note: String = "") {
        guard let group else { return }
        say("data-parallel over \(group.size) ranks (MPI, \(group.library)): each step's batch of \(batch) is shared out, \(BatchSlice.rows(batch: batch, rank: 0, size: group.size).count) \(rows) on rank 0\(note)")
    }

    /// After training data-parallel from step `first` to `step` since `start` (`Bench.now`):
    /// speed, rank 0's communication per step and `reduced` (what the reduced bytes are).
    func sayCommunication(since start: Double, first: Int, step: Int, reducedFloats: Int, reduced: String) {
        guard let group, step > first else { return }
        let seconds = Bench.now() - start, stepsDone = Double(step - first)
        say("data-parallel: \(group.size) ranks, \(fixed(stepsDone / seconds, 3)) steps/s, communication (with waiting) \(fixed(1000 * group.communicationSeconds / stepsDone, 2)) ms per step on rank 0, \(fixed(100 * group.communicationSeconds / seconds, 1)) % of its time, \(reducedFloats * 4) \(reduced) per step")
    }

    /// After a stop by request at `step`: how to go on.
    func sayStopped(at step: Int, checkpointPath: String?) {
        say("stopped at step \(step); resume with --resume\(checkpointPath == nil ? " (no --checkpoint-dir was given: progress is lost)" : "")")
    }
}
