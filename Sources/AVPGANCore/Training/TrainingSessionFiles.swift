#if canImport(Glibc)
import Glibc
#endif

/// What `GANTrainingSession` and `VoiceEncoderTrainingSession` keep on disk, in one place: the
/// checkpoint `<directory>/<checkpointName>` and the JSONL log (`logPath`, else
/// `<directory>/<logName>`), which a resumed run continues as it was. Only the writing process
/// (the only one, or rank 0 of a data-parallel session) makes the folder and writes; the
/// others keep the same log in memory and write nothing.
struct TrainingSessionFiles {
    let checkpointName: String
    let checkpointPath: String?
    let logPath: String?
    /// Whether this process writes (false: a data-parallel rank other than 0).
    let writes: Bool
    /// The JSONL log so far, one line per step.
    private(set) var log: [UInt8] = []

    /// Makes the folder (when this process writes and there is one); nothing is read.
    init(directory: String?, checkpointName: String, logPath: String?, logName: String, writes: Bool) throws {
        if let directory, writes { try FileIO.makeDirectory(directory) }
        self.checkpointName = checkpointName
        checkpointPath = directory.map { "\($0)/\(checkpointName)" }
        self.logPath = logPath ?? directory.map { "\($0)/\(logName)" }
        self.writes = writes
    }

    /// The checkpoint's bytes to resume from; the log continues from the file's (if any).
    /// Throws `.invalidArgument` when the folder holds no readable checkpoint.
    mutating func resume() throws -> [UInt8] {
        guard let checkpointPath, access(checkpointPath, R_OK) == 0 else {
            throw AVPGANError(.invalidArgument, "resuming needs a checkpoint folder holding \(checkpointName)")
        }
        let bytes = try FileIO.read(checkpointPath)
        if let logPath, let old = try? FileIO.read(logPath) { log = old }
        return bytes
    }

    /// Adds one line (a JSON object) to the log.
    mutating func append(_ line: String) { log += Array((line + "\n").utf8) }

    /// Writes the checkpoint (`bytes`, asked for only when it has a place) and the log.
    func save(checkpoint bytes: () throws -> [UInt8]) throws {
        guard writes else { return }
        if let checkpointPath { try FileIO.write(try bytes(), to: checkpointPath) }
        try writeLog()
    }

    /// Writes the log alone.
    func writeLog() throws {
        if let logPath, writes { try FileIO.write(log, to: logPath) }
    }
}
