import Dispatch
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

    /// Sets the engine's threads and BLAS's.
    public static func setThreads(_ n: Int) {
        count.store(max(1, n), ordering: .relaxed)
        BLAS.setThreads(n)
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
        withoutActuallyEscaping(body) { body in
            let task = UnsafeSendableClosure(body)
            DispatchQueue.concurrentPerform(iterations: n) { k in
                pthread_setspecific(insideChunk, UnsafeRawPointer(bitPattern: 1))
                task.call((items * k / n)..<(items * (k + 1) / n))
                pthread_setspecific(insideChunk, nil)
            }
        }
    }
}

/// Lets a non-escaping body run on Dispatch's workers: every caller waits for
/// all of them, and each chunk touches only its own items.
private struct UnsafeSendableClosure: @unchecked Sendable {
    let call: (Range<Int>) -> Void
    init(_ call: @escaping (Range<Int>) -> Void) { self.call = call }
}
