import LoomCore
#if canImport(Glibc)
import Glibc
#endif

/// The processes one run spans, numbered 0 ..< `size` (MPI's ranks), and
/// what they do together. Every rank runs the same statements in the same
/// order, so each call here is made by every rank at the same point.
public protocol Collective: AnyObject {
    var rank: Int { get }
    var size: Int { get }
    /// Copies `root`'s bytes into every other rank's `buffer`, which has the
    /// same length on every rank.
    func broadcast(_ buffer: UnsafeMutableRawBufferPointer, from root: Int)
    /// `broadcast`, for waits that may last minutes (the next cell of a
    /// notebook): a waiting rank sleeps between checks instead of spinning
    /// on its core. Every rank calls this one, never `broadcast`, to match.
    func idleBroadcast(_ buffer: UnsafeMutableRawBufferPointer, from root: Int)
    /// Every rank's part into `all` on every rank, one after another in rank
    /// order: rank r's part is `counts[r]` bytes (`counts` the same on every
    /// rank), `mine` this rank's. One meeting of all the ranks.
    func allgather(_ mine: UnsafeRawBufferPointer, into all: UnsafeMutableRawBufferPointer, counts: [Int])
    /// Every rank's `bytes` (the same length on every rank), in rank order;
    /// nil when the other ranks have not all joined within `patience`
    /// seconds (nil: wait as long as it takes). Kept apart from the other
    /// calls, so a rank can wait here while the others are still inside a
    /// training step it left. After nil, the only call left is `abort`.
    func gather(_ bytes: [UInt8], patience: Double?) -> [[UInt8]]?
    /// Writes `message` on stderr and ends every rank's process.
    func abort(_ message: String) -> Never
    /// The end of the run: after it, no other call.
    func finish()
}

/// The ranks this process belongs to: one process alone unless `start`
/// found a launch by mpirun.
public enum Ranks {
    /// Set once, by `start`, before anything runs.
    nonisolated(unsafe) public private(set) static var current: any Collective = SingleProcess()

    /// Called with the message before a rank stops every rank (`abort`): the
    /// kernel's rank 0 tells the front end why its cell ends.
    nonisolated(unsafe) public static var beforeAbort: ((String) -> Void)?

    /// Runs `body` as a process alone (`current` is a `SingleProcess` while it
    /// runs): for work one rank does by itself, which must not wait for the
    /// others in a collective call.
    public static func alone<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        let ranks = current
        current = SingleProcess()
        defer { current = ranks }
        return try body()
    }

    /// Joins the other ranks when mpirun started this process (Open MPI sets
    /// OMPI_COMM_WORLD_SIZE and OMPI_COMM_WORLD_RANK); without them, or with
    /// one rank, nothing changes. Throws when Open MPI cannot be loaded.
    @discardableResult
    public static func start() throws(RanksError) -> any Collective {
        guard let size = environment("OMPI_COMM_WORLD_SIZE").flatMap(Int.init), size > 1 else { return current }
        current = try OpenMPI.start(expectedSize: size)
        return current
    }

    /// How many ranks share this machine (Open MPI's OMPI_COMM_WORLD_LOCAL_SIZE);
    /// 1 for a process alone.
    public static var onThisMachine: Int {
        current.size > 1 ? max(1, environment("OMPI_COMM_WORLD_LOCAL_SIZE").flatMap(Int.init) ?? 1) : 1
    }

    static func environment(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
}

/// Why this process could not join its ranks.
public struct RanksError: Error, CustomStringConvertible {
    public let description: String
}

/// One process: every shard is its own and nothing is exchanged.
public final class SingleProcess: Collective {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func broadcast(_ buffer: UnsafeMutableRawBufferPointer, from root: Int) {}
    public func idleBroadcast(_ buffer: UnsafeMutableRawBufferPointer, from root: Int) {}
    public func allgather(_ mine: UnsafeRawBufferPointer, into all: UnsafeMutableRawBufferPointer, counts: [Int]) {
        if !mine.isEmpty { all.copyMemory(from: mine) }
    }
    public func gather(_ bytes: [UInt8], patience: Double?) -> [[UInt8]]? { [bytes] }
    public func abort(_ message: String) -> Never {
        writeError(message)
        exit(1)
    }
    public func finish() {}
}

extension Collective {
    /// Whether this rank computes `shard` of a step split into `count`:
    /// shards are dealt in turn (rank r takes r, r + size, …); a step that
    /// is not split runs whole on every rank.
    func computes(shard: Int, of count: Int) -> Bool { count == 1 || shard % size == rank }

    /// `root`'s text on every rank.
    public func broadcast(text: String, from root: Int) -> String {
        String(decoding: broadcast(bytes: Array(text.utf8), from: root, idle: false), as: UTF8.self)
    }

    /// `root`'s bytes on every rank (the others' `bytes` are ignored), their
    /// length first; `idle`: through `idleBroadcast`.
    public func broadcast(bytes: [UInt8], from root: Int, idle: Bool) -> [UInt8] {
        var bytes = bytes
        var length = bytes.count
        let send = idle ? idleBroadcast : broadcast
        withUnsafeMutableBytes(of: &length) { send($0, root) }
        if rank != root { bytes = [UInt8](repeating: 0, count: length) }
        bytes.withUnsafeMutableBytes { send($0, root) }
        return bytes
    }

    /// Writes a file on rank 0 alone; every rank then learns how it went
    /// (the others wait for it), so a read after it finds the finished file
    /// on every rank and a failed write fails on every rank alike.
    public func writeOnRankZero(_ bytes: [UInt8], to path: String) throws(FileError) {
        var failure = ""
        if rank == 0 {
            do { try Files.writeAtomically(bytes, to: path) } catch { failure = error.reason }
        }
        if size > 1 { failure = broadcast(text: failure, from: 0) }
        if !failure.isEmpty { throw FileError(path: path, reason: failure) }
    }
}

/// `message` and a newline on stderr, in one write (ranks share the terminal).
func writeError(_ message: String) {
    let bytes = Array((message + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}
