import CMPI
import LoomCore
#if canImport(Glibc)
import Glibc
#endif

/// The ranks of an Open MPI job, through libmpi loaded at run time (see
/// `CMPI`): broadcasts and training steps' exchanges on a duplicate of
/// MPI_COMM_WORLD, and the gathers that check the ranks agree on a
/// communicator of their own, so a rank waiting in one never matches a
/// collective the others are making.
final class OpenMPI: Collective {
    private var mpi = loom_mpi()
    private var steps: UnsafeMutableRawPointer?
    private var checks: UnsafeMutableRawPointer?
    let rank: Int
    let size: Int

    /// Loads libmpi and initialises MPI; `expectedSize` is what mpirun's
    /// environment announced.
    static func start(expectedSize: Int) throws(RanksError) -> OpenMPI {
        var mpi = loom_mpi()
        var reason: UnsafePointer<CChar>?
        guard loom_mpi_load(&mpi, &reason) == 0 else {
            throw RanksError(description: "started by mpirun (OMPI_COMM_WORLD_SIZE=\(expectedSize)) but Open MPI cannot be "
                             + "loaded: \(reason.map { String(cString: $0) } ?? "unknown reason") (Debian: apt-get install openmpi-bin)")
        }
        return try OpenMPI(mpi)
    }

    private init(_ library: loom_mpi) throws(RanksError) {
        mpi = library
        var provided: Int32 = 0
        // Cells may run on another thread than this one, never two at once.
        guard mpi.init_thread(nil, nil, Int32(LOOM_MPI_THREAD_SERIALIZED), &provided) == LOOM_MPI_SUCCESS,
              provided >= Int32(LOOM_MPI_THREAD_SERIALIZED) else {
            throw RanksError(description: "Open MPI would not start with calls from more than one thread (MPI_THREAD_SERIALIZED)")
        }
        var r: Int32 = 0, s: Int32 = 0
        _ = mpi.comm_rank(mpi.comm_world, &r)
        _ = mpi.comm_size(mpi.comm_world, &s)
        rank = Int(r)
        size = Int(s)
        _ = mpi.comm_dup(mpi.comm_world, &steps)
        _ = mpi.comm_dup(mpi.comm_world, &checks)
    }

    func broadcast(_ buffer: UnsafeMutableRawBufferPointer, from root: Int) {
        guard let base = buffer.baseAddress else { return }
        // MPI counts in Int32: a large buffer goes in pieces of 1 GiB.
        var offset = 0
        while offset < buffer.count {
            let piece = min(buffer.count - offset, 1 << 30)
            let rc = mpi.bcast(base + offset, Int32(piece), mpi.byte_type, Int32(root), steps)
            if rc != LOOM_MPI_SUCCESS { abort("loom: rank \(rank): MPI_Bcast failed (error \(rc))") }
            offset += piece
        }
    }

    func idleBroadcast(_ buffer: UnsafeMutableRawBufferPointer, from root: Int) {
        guard let base = buffer.baseAddress else { return }
        var offset = 0
        while offset < buffer.count {
            let piece = min(buffer.count - offset, 1 << 30)
            var request: UnsafeMutableRawPointer?
            let rc = mpi.ibcast(base + offset, Int32(piece), mpi.byte_type, Int32(root), steps, &request)
            if rc != LOOM_MPI_SUCCESS { abort("loom: rank \(rank): MPI_Ibcast failed (error \(rc))") }
            // Sleeps between checks, longer as the wait grows (to 10 ms), so
            // a rank waiting for the next cell leaves its core to others.
            var done: Int32 = 0, pause: UInt32 = 50
            while true {
                _ = mpi.test(&request, &done, nil)
                if done != 0 { break }
                usleep(pause)
                pause = min(pause * 2, 10_000)
            }
            offset += piece
        }
    }

    func allgather(_ mine: UnsafeRawBufferPointer, into all: UnsafeMutableRawBufferPointer, counts: [Int]) {
        // MPI counts and offsets are Int32: beyond 2 GiB in all, each rank's
        // part goes to the others in turn, in broadcasts of 1 GiB pieces.
        let starts = counts.reduce(into: [0]) { $0.append($0.last! + $1) }
        guard starts.last! <= Int(Int32.max) else {
            if !mine.isEmpty { UnsafeMutableRawBufferPointer(rebasing: all[starts[rank]...]).copyMemory(from: mine) }
            for root in 0..<size { broadcast(UnsafeMutableRawBufferPointer(rebasing: all[starts[root]..<starts[root + 1]]), from: root) }
            return
        }
        let rc = mpi.allgatherv(mine.baseAddress, Int32(mine.count), mpi.byte_type, all.baseAddress, counts.map { Int32($0) },
                                starts.dropLast().map { Int32($0) }, mpi.byte_type, steps)
        if rc != LOOM_MPI_SUCCESS { abort("loom: rank \(rank): MPI_Allgatherv failed (error \(rc))") }
    }

    func gather(_ bytes: [UInt8], patience: Double?) -> [[UInt8]]? {
        var all = [UInt8](repeating: 0, count: bytes.count * size)
        var request: UnsafeMutableRawPointer?
        let started = Monotonic.now
        var done: Int32 = 0
        bytes.withUnsafeBytes { mine in
            all.withUnsafeMutableBytes { out in
                _ = mpi.iallgather(mine.baseAddress, Int32(bytes.count), mpi.byte_type, out.baseAddress, Int32(bytes.count),
                                   mpi.byte_type, checks, &request)
                while true {
                    _ = mpi.test(&request, &done, nil)
                    if done != 0 { return }
                    if let patience, Monotonic.now - started > patience { return }
                    usleep(1000)
                }
            }
        }
        guard done != 0 else { return nil }
        return (0..<size).map { Array(all[($0 * bytes.count)..<(($0 + 1) * bytes.count)]) }
    }

    func abort(_ message: String) -> Never {
        Ranks.beforeAbort?(message)
        writeError(message)
        _ = mpi.abort(mpi.comm_world, 1)
        exit(1)
    }

    func finish() { _ = mpi.finalize() }
}
