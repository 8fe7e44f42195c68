#if canImport(Glibc)
import Glibc
#endif

/// This process's place among the copies a parallel launcher started (`mpirun -np N`,
/// `srun -n N`), read from the environment the launcher sets, so that batch work can be shared
/// out with no communication and no MPI library: copy `rank` of `size` takes items
/// `rank, rank + size, ...`. A process started alone is rank 0 of 1.
public struct LauncherRank: Equatable, Sendable {
    public let rank: Int
    public let size: Int

    public init(rank: Int, size: Int) {
        self.rank = rank
        self.size = size
    }

    /// The variables, in order: Open MPI; MPICH, Intel MPI and other PMI launchers; Slurm.
    static let variables: [(rank: String, size: String)] = [
        ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"),
        ("PMI_RANK", "PMI_SIZE"),
        ("SLURM_PROCID", "SLURM_NTASKS"),
    ]

    /// The rank from the environment; rank 0 of 1 when no launcher set one (or set nonsense).
    public static func fromEnvironment(_ get: (String) -> String? = { getenv($0).map { String(cString: $0) } }) -> LauncherRank {
        for (rankName, sizeName) in variables {
            guard let r = get(rankName).flatMap({ Int($0) }), let s = get(sizeName).flatMap({ Int($0) }) else { continue }
            if s >= 1 && (0..<s).contains(r) { return LauncherRank(rank: r, size: s) }
        }
        return LauncherRank(rank: 0, size: 1)
    }

    /// Whether item `index` of a batch is this process's.
    public func owns(_ index: Int) -> Bool { index % size == rank }
}
