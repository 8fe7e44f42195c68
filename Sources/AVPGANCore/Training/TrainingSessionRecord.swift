#if canImport(Glibc)
import Glibc
#endif

/// What every training session (`GANTrainingSession`, `VoiceEncoderTrainingSession`,
/// `EnhancerTrainingSession`, `PriorTrainingSession`) keeps besides its networks, in one place:
/// - the checkpoint, `<directory>/<checkpointName>`, written atomically (`FileIO.write`: a
///   failed write, a full disk, leaves the previous checkpoint as it was, and says so);
/// - the JSONL log (`logPath`, else `<directory>/<logName>`), one JSON object holding `"step"`
///   per line: the session's own lines (`append`) or a step's losses by name with its rate
///   (`logStep`). It is written with each checkpoint, and by `logStep` at least every
///   `logInterval` between them; a resumed run's log keeps the lines up to its checkpoint's
///   step (`lines(_:upTo:)`) and continues from there;
/// - the sample sheets, `<directory>/samples/step-NNNNNN.png` (`writeSheet`);
/// - the rate since the session (or the last `startClock`) started, and the checkpoint cadence.
/// With no `directory` and no `logPath` nothing is written. On a rank other than 0 of a
/// data-parallel session (`writes` false) it keeps the same account (log lines, the last
/// checkpoint's step) and writes nothing.
final class TrainingSessionRecord {
    static let samplesFolder = "samples"
    /// Most time between writes of the log when no checkpoint writes it (`logStep`).
    static let logInterval = Duration.seconds(10)

    let directory: String?
    let checkpointPath: String?
    let logPath: String?
    /// Whether this process writes (false: a data-parallel rank other than 0).
    let writes: Bool
    /// The step of the last checkpoint written or resumed from (nil: none).
    private(set) var lastCheckpoint: Int?
    /// The JSONL log so far.
    private(set) var log: [UInt8] = []
    private let firstStep: Int
    private var clock = StepRate()
    private var logWritten = ContinuousClock.now

    /// Paths only: nothing is read or made until `open`. `firstStep`: the step the session
    /// starts from (0, or its checkpoint's).
    init(directory: String?, checkpointName: String, logPath: String?, logName: String, firstStep: Int, writes: Bool = true) {
        self.directory = directory
        checkpointPath = directory.map { "\($0)/\(checkpointName)" }
        self.logPath = logPath ?? directory.map { "\($0)/\(logName)" }
        (self.firstStep, self.writes) = (firstStep, writes)
    }

    /// Makes the folder (and its samples folder when `samples`) where this process writes; a
    /// resumed run (`resumed`: its checkpoint is of `firstStep`) continues its log from the
    /// checkpoint's step.
    func open(resumed: Bool, samples: Bool = true) throws {
        if let directory, writes {
            try FileIO.makeDirectory(directory)
            if samples { try FileIO.makeDirectory("\(directory)/\(Self.samplesFolder)") }
        }
        if resumed {
            lastCheckpoint = firstStep
            if let logPath, let old = try? FileIO.read(logPath) { log = Self.lines(old, upTo: firstStep) }
        }
    }

    /// The bytes of the checkpoint a resumed run continues: `resumeFrom` when given (a host that
    /// keeps its checkpoints elsewhere), else `<directory>/<checkpointName>`; throws `.io` for a
    /// given file that cannot be read and `.invalidArgument` when there is none to continue.
    static func resumeBytes(directory: String?, checkpointName: String, resumeFrom: String? = nil) throws -> [UInt8] {
        if let path = resumeFrom, access(path, R_OK) != 0 {
            throw AVPGANError(.io, "the checkpoint '\(path)' does not exist or cannot be read")
        }
        guard let source = resumeFrom ?? directory.map({ "\($0)/\(checkpointName)" }), access(source, R_OK) == 0 else {
            throw AVPGANError.invalid("resuming needs a checkpoint folder holding \(checkpointName)")
        }
        return try FileIO.read(source)
    }

    /// Starts the clock of the rate again (at the start of a `train` call).
    func startClock() { (clock, logWritten) = (StepRate(), ContinuousClock.now) }

    /// Steps per second from the first step to `step` since the clock started.
    func rate(at step: Int) -> Double { clock.perSecond(step - firstStep) }

    /// Logs a step's losses (sorted by name) and its rate; writes the log when it has not been
    /// written for `logInterval`.
    func logStep(_ step: Int, losses: [String: Float], stepsPerSecond: Double) throws {
        let fields = losses.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", ")
        append("{\"step\": \(step), \(fields), \"steps_per_second\": \(fixed(stepsPerSecond, 3))}")
        if let logPath, writes, ContinuousClock.now - logWritten >= Self.logInterval {
            try FileIO.write(log, to: logPath)  // a long run's log is followed between checkpoints
            logWritten = ContinuousClock.now
        }
    }

    /// Adds one line (a JSON object holding `"step"`) to the log.
    func append(_ line: String) { log += Array((line + "\n").utf8) }

    /// True when `step` takes a checkpoint: every `every` steps and at the last one.
    static func isCheckpoint(_ step: Int, every: Int, last: Int) -> Bool { step % every == 0 || step == last }

    /// Writes the checkpoint of `step` (`bytes`, made only when there is a place for it) and
    /// the log, each atomically. A failed write throws `.io` saying what was kept.
    func save(step: Int, checkpoint bytes: () throws -> [UInt8]) throws {
        if checkpointPath != nil, !writes {
            lastCheckpoint = step  // rank 0 wrote it
        } else if let checkpointPath {
            do {
                try FileIO.write(try bytes(), to: checkpointPath)
            } catch let e as AVPGANError {
                let kept = lastCheckpoint.map { "the checkpoint of step \($0) is left as it was" } ?? "no checkpoint was written"
                throw AVPGANError(e.kind, "saving the checkpoint of step \(step) failed (\(e.message)); \(kept)")
            }
            lastCheckpoint = step
        }
        try writeLog()
    }

    /// Writes the log alone (where it has a place and this process writes).
    func writeLog() throws { if let logPath, writes { try FileIO.write(log, to: logPath) } }

    /// After a non-finite loss: writes the log and returns `message` with what was kept.
    func diverged(_ message: String) throws -> String {
        try writeLog()
        let kept = lastCheckpoint.map { " the checkpoint of step \($0) is kept" } ?? " no checkpoint was written"
        return "\(message);\(kept), nothing was saved after it"
    }

    /// Writes a sample sheet's PNG for `step` (nothing without a folder, or for no PNG).
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
