import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Marks the threads running a chunk, so loops nested inside one (a layer's
/// loop inside a shard of a training step) stay on that thread.
private let insideChunk: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, nil)
    return key
}()

/// The engine's own loops split across threads: `set threads` sets this and
/// BLAS's thread count together. Work is split into contiguous chunks of
/// independent items (samples, rows), so results do not depend on the count.
public enum Parallel {
    private static let count = Atomic<Int>(1)

    public static var threads: Int { count.load(ordering: .relaxed) }

    /// Sets the engine's threads and BLAS's, starting any they lack; returns
    /// how many there are: fewer than `n` when the system refuses more
    /// (`ulimit -u`, `ulimit -v`), never a wait. The engine's loops run on
    /// one thread per core at most, as Dispatch's did; chunks do not change.
    @discardableResult
    public static func setThreads(_ n: Int) -> Int {
        let wanted = max(1, n)
        let workersWanted = min(wanted, Machine.cores) - 1
        let workers = WorkerPool.shared.start(workersWanted)
        let blas = BLAS.startThreads(wanted)  // OpenBLAS's own limit alone does not lower the count
        let got = min(workers < workersWanted ? workers + 1 : wanted,
                      blas < min(wanted, BLAS.maximumThreads) ? blas : wanted)
        count.store(got, ordering: .relaxed)
        BLAS.setThreads(got)
        return got
    }

    /// Calls `body(range)` on disjoint chunks covering `0..<items`, on up to
    /// `threads` threads; small jobs (`minimumChunk`) and calls from inside
    /// another chunk stay on the caller's.
    public static func chunks(_ items: Int, minimumChunk: Int = 1, _ body: (Range<Int>) -> Void) {
        let nested = pthread_getspecific(insideChunk) != nil
        let n = nested ? 1 : min(threads, max(1, items / max(1, minimumChunk)))
        guard n > 1 else {
            if items > 0 { body(0..<items) }
            return
        }
        WorkerPool.shared.run(n) { k in
            pthread_setspecific(insideChunk, UnsafeRawPointer(bitPattern: 1))
            body((items * k / n)..<(items * (k + 1) / n))
            pthread_setspecific(insideChunk, nil)
        }
    }
}
