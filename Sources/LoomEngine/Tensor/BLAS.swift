import CBLAS
import LoomCore

/// The BLAS library under the engine: which kernel it picked, and its threads.
public enum BLAS {
    /// OpenBLAS's name for the kernel in use (`SkylakeX`, `Haswell`, …).
    /// `Prescott` on a modern CPU means the slow generic kernel was chosen:
    /// set `OPENBLAS_CORETYPE` before the process starts.
    public static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// Runs BLAS on `n` threads, at most as many as `startThreads` has made
    /// sure of: OpenBLAS would start any others unchecked.
    public static func setThreads(_ n: Int) {
        openblas_set_num_threads(Int32(min(max(1, n), started.withLock { $0 })))
    }

    /// Starts BLAS threads until there are `n` (or OpenBLAS's own limit),
    /// after checking that the system will start them: OpenBLAS 0.3.21 does
    /// not check, and waits, spinning, for a thread that never started.
    /// Returns how many BLAS can use.
    public static func startThreads(_ n: Int) -> Int {
        let wanted = min(max(1, n), maximumThreads)
        return started.withLock { started in
            if wanted > started {
                started += ThreadProbe.startable(wanted - started, mapping: threadAddressSpace, spare: spareAddressSpace)
                openblas_set_num_threads(Int32(started))
            }
            return min(wanted, started)
        }
    }

    /// The threads OpenBLAS has (it starts its first ones as it loads, and
    /// keeps every one it starts); read before any call changes the count.
    private static let started = Locked(max(1, Int(openblas_get_num_threads())))

    /// OpenBLAS's own limit on threads (`MAX_THREADS` in its build).
    static let maximumThreads: Int = {
        guard let config = openblas_get_config() else { return 1 }
        let words = String(cString: config).split(separator: " ")
        return words.first { $0.hasPrefix("MAX_THREADS=") }.flatMap { Int($0.dropFirst(12)) } ?? 1
    }()

    /// What one OpenBLAS thread maps as it starts, beside its stack: its
    /// work buffer (128 MiB in 0.3.21's x86-64 builds) and a margin.
    static let threadAddressSpace = 136 << 20
    /// Address space left free after BLAS's threads, for the work itself.
    static let spareAddressSpace = 256 << 20

    /// Runs `body` with BLAS (and its LAPACK) on one thread: a blocked
    /// factorisation splits its work by the thread count, so its last bits
    /// would otherwise depend on `set threads`.
    public static func singleThreaded<T>(_ body: () -> T) -> T {
        let saved = threads
        setThreads(1)
        defer { setThreads(saved) }
        return body()
    }
}
