#if canImport(Glibc)
import Glibc
#endif

/// What the face-folder training sessions (`EnhancerTrainingSession`, `PriorTrainingSession`)
/// keep besides their networks, in one place:
/// - the checkpoint (`<directory>/<checkpointName>`), written atomically (`FileIO.write`: a
///   failed write, a full disk, leaves the previous checkpoint as it was, and says so);
/// - the JSONL log (`logPath`, else `<directory>/<logName>`), one line per step
///   `{"step", <losses by name>, "steps_per_second"}` and the session's own lines, written with
///   each checkpoint and at least every `logInterval` between them; a resumed run's log keeps
///   the lines up to its checkpoint's step (`lines(_:upTo:)`);
/// - the sample sheets, `<directory>/samples/step-NNNNNN.png`;
/// - the rate since the session started, and the checkpoint cadence.
/// On a rank other than 0 of a data-parallel session (`writes` false) it keeps the same
/// account (log lines, the last checkpoint's step) and writes nothing.
final class TrainingSessionRecord {
    static let samplesFolder = "samples"
    /// Most time between writes of the log when no checkpoint writes it.
    static let logInterval = Duration.seconds(10)

    let directory: String?
    let checkpointPath: String?
    let logPath: String?
    /// Whether this process writes (false: a data-parallel rank other than 0).
    var writes = true
    /// The step of the last checkpoint written or resumed from (nil: none).
    private(set) var lastCheckpoint: Int?
    private(set) var log: [UInt8] = []
    private let firstStep: Int
    private let clock = ContinuousClock()
    private var start: ContinuousClock.Instant, logWritten: ContinuousClock.Instant

    /// Paths only: nothing is read or made until `open`.
    init(directory: String?, checkpointName: String, logPath: String?, logName: String, firstStep: Int) {
        self.directory = directory
        checkpointPath = directory.map { "\($0)/\(checkpointName)" }
        self.logPath = logPath ?? directory.map { "\($0)/\(logName)" }
        self.firstStep = firstStep
        (start, logWritten) = (clock.now, clock.now)
    }

    /// Makes the folder and its samples folder; a resumed run (`resumed`: its checkpoint is
    /// of `firstStep`) continues its log from the checkpoint's step.
    func open(resumed: Bool) throws {
        if let directory, writes {
            try FileIO.makeDirectory(directory)
            try FileIO.makeDirectory("\(directory)/\(Self.samplesFolder)")
        }
        if resumed {
            lastCheckpoint = firstStep
            if let logPath, let old = try? FileIO.read(logPath) { log = Self.lines(old, upTo: firstStep) }
        }
    }

    /// The bytes of the checkpoint a resumed run continues: `resumeFrom` when given (a host that
    /// keeps its checkpoints elsewhere), else the one in the folder; throws `.io` for a given file
    /// that cannot be read and `.invalidArgument` when there is none to continue.
    static func resumeBytes(resumeFrom: String?, folderCheckpoint: String?, name: String) throws -> [UInt8] {
        if let path = resumeFrom, access(path, R_OK) != 0 {
            throw AVPGANError(.io, "the checkpoint '\(path)' does not exist or cannot be read")
        }
        guard let source = resumeFrom ?? folderCheckpoint, access(source, R_OK) == 0 else {
            throw AVPGANError.invalid("resuming needs a checkpoint folder holding \(name)")
        }
        return try FileIO.read(source)
    }

    /// Starts the clock of the rate (at the start of `train`).
    func startClock() { (start, logWritten) = (clock.now, clock.now) }

    /// Steps per second from the first step to `step` since `startClock`.
    func rate(at step: Int) -> Double {
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        return Double(step - firstStep) / max(seconds, 1e-9)
    }

    /// Logs a step's losses (sorted by name) and its rate; writes the log when it has not been
    /// written for `logInterval`.
    func logStep(_ step: Int, losses: [String: Float], stepsPerSecond: Double) throws {
        let fields = losses.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", ")
        append("{\"step\": \(step), \(fields), \"steps_per_second\": \(fixed(stepsPerSecond, 3))}")
        if let logPath, writes, clock.now - logWritten >= Self.logInterval {
            try FileIO.write(log, to: logPath)  // a long run's log is followed between checkpoints
            logWritten = clock.now
        }
    }

    /// Adds one line (a JSON object holding `"step"`) to the log.
    func append(_ line: String) { log += Array((line + "\n").utf8) }

    /// True when `step` takes a checkpoint: every `every` steps and at the last one.
    static func isCheckpoint(_ step: Int, every: Int, last: Int) -> Bool { step % every == 0 || step == last }

    /// Writes the checkpoint of `step` (`bytes`, made only when there is a place for it) and
    /// the log, each atomically. A failed write throws `.io` saying what was kept.
    func save(step: Int, checkpoint bytes: () -> [UInt8]) throws {
        if checkpointPath != nil, !writes {
            lastCheckpoint = step  // rank 0 wrote it
        } else if let checkpointPath {
            do {
                try FileIO.write(bytes(), to: checkpointPath)
            } catch let e as AVPGANError {
                let kept = lastCheckpoint.map { "the checkpoint of step \($0) is left as it was" } ?? "no checkpoint was written"
                throw AVPGANError(e.kind, "saving the checkpoint of step \(step) failed (\(e.message)); \(kept)")
            }
            lastCheckpoint = step
        }
        try writeLog()
    }

    func writeLog() throws { if let logPath, writes { try FileIO.write(log, to: logPath) } }

    /// After a non-finite loss: writes the log and returns `message` with what was kept.
    func diverged(_ message: String) throws -> String {
        try writeLog()
        let kept = lastCheckpoint.map { " the checkpoint of step \($0) is kept" } ?? " no checkpoint was written"
        return "\(message);\(kept), nothing was saved after it"
    }

    /// Writes a sample sheet's PNG for `step` (nothing without a folder).
    func writeSheet(_ png: [UInt8], step: Int) throws {
        guard let directory, writes, !png.isEmpty else { return }
        let digits = String(step), padded = String(repeating: "0", count: max(0, 6 - digits.count)) + digits
        try FileIO.write(png, to: "\(directory)/\(Self.samplesFolder)/step-\(padded).png")
    }

    /// The lines of a JSONL log whose `step` is at most `step` (a resumed run's log continues
    /// from its checkpoint; lines written after it, by a run that ended without saving, go).
    static func lines(_ log: [UInt8], upTo step: Int) -> [UInt8] {
        var out: [UInt8] = []
        for line in log.split(separator: UInt8(ascii: "\n")) {
            guard let value = try? JSON.parse(String(decoding: line, as: UTF8.self)), let s = value["step"]?.integerValue,
                  s <= step else { continue }
            out += line + [UInt8(ascii: "\n")]
        }
        return out
    }
}
