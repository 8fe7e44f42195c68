import AVPGANCore
#if canImport(Glibc)
import Glibc
#endif

/// The ranks of an MPI job (`mpirun -np N avpgan train ...`), as the core's `GradientReducer`.
/// MPI is loaded at run time, only when a launcher started several copies: the avpgan package
/// and the library need no MPI installed. Two ABIs are known: Open MPI's (`libmpi.so.40`,
/// handles are the addresses of its predefined objects) and MPICH's (`libmpi.so.12`, also Intel
/// MPI and MVAPICH; handles are fixed integers). `AVPGAN_MPI_LIBRARY` names another file.
///
/// Failure policy: a rank that fails calls `MPI_Abort`, which ends every rank of the job, so no
/// rank waits for a partner that will never come (`fail` does this for every command).
final class MPIProcessGroup: GradientReducer {
    let rank: Int
    let size: Int
    /// The library file that was loaded, for messages.
    let library: String
    /// Seconds spent inside `sum` (communication, and waiting for the slowest rank).
    private(set) var communicationSeconds = 0.0

    /// The group this process joined, if any (`fail` aborts it).
    nonisolated(unsafe) static var current: MPIProcessGroup?

    private let allreduceSum: (UnsafeRawPointer, UnsafeMutableRawPointer, Int32) -> Int32
    private let abortJob: (Int32) -> Void
    private let finalizeJob: () -> Int32
    private var scratch: [Float] = []

    /// Joins the MPI job when a launcher started more than one copy (`LauncherRank`); nil when
    /// this process runs alone. Throws when MPI cannot be loaded or disagrees with the launcher.
    static func joinIfLaunched() throws -> MPIProcessGroup? {
        let launcher = LauncherRank.fromEnvironment()
        guard launcher.size > 1 else { return nil }
        let group = try MPIProcessGroup()
        guard group.size == launcher.size, group.rank == launcher.rank else {
            group.abort(1)
            throw AVPGANError(.invalidArgument, "MPI says rank \(group.rank) of \(group.size), the launcher rank \(launcher.rank) of \(launcher.size)")
        }
        current = group
        return group
    }

    private typealias Initialized = @convention(c) (UnsafeMutablePointer<Int32>) -> Int32
    private typealias Init = @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Int32
    private typealias Finalize = @convention(c) () -> Int32
    // Open MPI: communicators, datatypes and operations are pointers.
    private typealias PointerCommQuery = @convention(c) (UnsafeMutableRawPointer, UnsafeMutablePointer<Int32>) -> Int32
    private typealias PointerAllreduce = @convention(c) (UnsafeRawPointer, UnsafeMutableRawPointer, Int32,
                                                         UnsafeMutableRawPointer, UnsafeMutableRawPointer, UnsafeMutableRawPointer) -> Int32
    private typealias PointerAbort = @convention(c) (UnsafeMutableRawPointer, Int32) -> Int32
    // MPICH ABI: they are 32-bit integers.
    private typealias IntCommQuery = @convention(c) (Int32, UnsafeMutablePointer<Int32>) -> Int32
    private typealias IntAllreduce = @convention(c) (UnsafeRawPointer, UnsafeMutableRawPointer, Int32, Int32, Int32, Int32) -> Int32
    private typealias IntAbort = @convention(c) (Int32, Int32) -> Int32
    /// MPICH's MPI_COMM_WORLD, MPI_FLOAT and MPI_SUM.
    private static let mpichWorld: Int32 = 0x4400_0000, mpichFloat: Int32 = 0x4C00_040A, mpichSum: Int32 = 0x5800_0003

    private init() throws {
        let env = getenv("AVPGAN_MPI_LIBRARY").map { String(cString: $0) }
        let candidates = env.map { [$0] } ?? ["libmpi.so.40", "libmpi.so.12", "libmpi.so"]
        var handle: UnsafeMutableRawPointer?, name = "", reasons: [String] = []
        for candidate in candidates {
            // RTLD_GLOBAL: Open MPI's own plug-ins resolve their symbols against libmpi.
            if let h = dlopen(candidate, RTLD_NOW | RTLD_GLOBAL) { handle = h; name = candidate; break }
            reasons.append(dlerror().map { String(cString: $0) } ?? candidate)
        }
        guard let handle else {
            throw AVPGANError(.unsupported, "started by an MPI launcher with several ranks, but no MPI library could be loaded (\(reasons.joined(separator: "; "))); install Open MPI (Debian: libopenmpi3) or name the library in AVPGAN_MPI_LIBRARY")
        }
        func symbol<T>(_ s: String, as: T.Type) throws -> T {
            guard let p = dlsym(handle, s) else { throw AVPGANError(.unsupported, "\(name) lacks \(s); is it an MPI library?") }
            return unsafeBitCast(p, to: T.self)
        }
        library = name
        var flag: Int32 = 0
        _ = try symbol("MPI_Initialized", as: Initialized.self)(&flag)
        if flag == 0 {
            guard try symbol("MPI_Init", as: Init.self)(nil, nil) == 0 else { throw AVPGANError(.io, "MPI_Init failed (\(name))") }
        }
        finalizeJob = try symbol("MPI_Finalize", as: Finalize.self)
        var r: Int32 = 0, s: Int32 = 0
        if let world = dlsym(handle, "ompi_mpi_comm_world") {
            // Open MPI: MPI_COMM_WORLD is &ompi_mpi_comm_world, and so on.
            let float = try symbol("ompi_mpi_float", as: UnsafeMutableRawPointer.self)
            let sum = try symbol("ompi_mpi_op_sum", as: UnsafeMutableRawPointer.self)
            let rankOf = try symbol("MPI_Comm_rank", as: PointerCommQuery.self), sizeOf = try symbol("MPI_Comm_size", as: PointerCommQuery.self)
            _ = rankOf(world, &r); _ = sizeOf(world, &s)
            let allreduce = try symbol("MPI_Allreduce", as: PointerAllreduce.self), abort = try symbol("MPI_Abort", as: PointerAbort.self)
            allreduceSum = { send, receive, count in allreduce(send, receive, count, float, sum, world) }
            abortJob = { code in _ = abort(world, code) }
        } else {
            let rankOf = try symbol("MPI_Comm_rank", as: IntCommQuery.self), sizeOf = try symbol("MPI_Comm_size", as: IntCommQuery.self)
            _ = rankOf(MPIProcessGroup.mpichWorld, &r); _ = sizeOf(MPIProcessGroup.mpichWorld, &s)
            let allreduce = try symbol("MPI_Allreduce", as: IntAllreduce.self), abort = try symbol("MPI_Abort", as: IntAbort.self)
            allreduceSum = { send, receive, count in
                allreduce(send, receive, count, MPIProcessGroup.mpichFloat, MPIProcessGroup.mpichSum, MPIProcessGroup.mpichWorld)
            }
            abortJob = { code in _ = abort(MPIProcessGroup.mpichWorld, code) }
        }
        rank = Int(r)
        size = Int(s)
    }

    /// MPI_Allreduce(SUM) of floats, in pieces of at most 2^30 (MPI counts are `int`).
    func sum(_ values: UnsafeMutablePointer<Float>, count: Int) throws {
        let start = Bench.now()
        defer { communicationSeconds += Bench.now() - start }
        if scratch.count < min(count, 1 << 30) { scratch = [Float](repeating: 0, count: min(count, 1 << 30)) }
        var at = 0
        while at < count {
            let n = min(count - at, 1 << 30)
            let status = scratch.withUnsafeMutableBytes { allreduceSum(values + at, $0.baseAddress!, Int32(n)) }
            guard status == 0 else { throw AVPGANError(.io, "MPI_Allreduce failed with MPI error \(status)") }
            values.advanced(by: at).update(from: scratch, count: n)
            at += n
        }
    }

    /// Ends every rank of the job with `code` (MPI_Abort); does not return.
    func abort(_ code: Int32) -> Never {
        abortJob(code)
        exit(code)
    }

    /// Leaves the job cleanly (MPI_Finalize); every rank calls it once, at the end.
    func finalize() {
        _ = finalizeJob()
        MPIProcessGroup.current = nil
    }
}
