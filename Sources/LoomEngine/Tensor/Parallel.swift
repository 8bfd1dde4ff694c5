import Dispatch
import Synchronization

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
    /// `threads` threads; small jobs (`minimumChunk`) stay on the caller's.
    public static func chunks(_ items: Int, minimumChunk: Int = 1, _ body: (Range<Int>) -> Void) {
        let n = min(threads, max(1, items / max(1, minimumChunk)))
        guard n > 1 else {
            if items > 0 { body(0..<items) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let task = UnsafeSendableClosure(body)
            DispatchQueue.concurrentPerform(iterations: n) { k in
                task.call((items * k / n)..<(items * (k + 1) / n))
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
