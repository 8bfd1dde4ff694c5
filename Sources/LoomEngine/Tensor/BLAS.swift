import CBLAS

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

    public static func setThreads(_ n: Int) {
        openblas_set_num_threads(Int32(max(1, n)))
    }

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
