#if canImport(Glibc)
import Glibc
#endif
import LoomCore

/// The threads the engine's loops run on, started ahead by
/// `Parallel.setThreads` and kept for the process. Dispatch's pool starts
/// its threads on demand and, when the system refuses one, retries forever
/// in an uninterruptible sleep; here a refused thread is known at once and
/// the work runs on the threads there are.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let done = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// Held by the one caller whose job the workers run; another caller
    /// meanwhile runs its chunks itself.
    private let caller = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    // Guarded by `mutex`:
    private var workers = 0
    private var generation = 0
    private var job: ((Int) -> Void)?
    private var chunkCount = 0
    private var nextChunk = 0
    private var finished = 0

    private init() {
        pthread_mutex_init(mutex, nil)
        pthread_mutex_init(caller, nil)
        pthread_cond_init(wake, nil)
        pthread_cond_init(done, nil)
    }

    /// Starts workers until there are `count`, or the system refuses one;
    /// returns how many there are.
    func start(_ count: Int) -> Int {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while workers < count {
            guard (try? BackgroundThread({ [self] in serve() })) != nil else { break }
            workers += 1
        }
        return workers
    }

    /// Runs `body(k)` for every k in `0..<chunks`, on the workers and the
    /// calling thread, and returns when all are done.
    func run(_ chunks: Int, _ body: (Int) -> Void) {
        guard pthread_mutex_trylock(caller) == 0 else {
            for k in 0..<chunks { body(k) }
            return
        }
        defer { pthread_mutex_unlock(caller) }
        withoutActuallyEscaping(body) { body in
            pthread_mutex_lock(mutex)
            job = body
            chunkCount = chunks
            nextChunk = 0
            finished = 0
            generation += 1
            pthread_cond_broadcast(wake)
            runChunks()
            while finished < chunkCount { pthread_cond_wait(done, mutex) }
            job = nil
            pthread_mutex_unlock(mutex)
        }
    }

    /// Takes chunks until none is left; called with `mutex` held.
    private func runChunks() {
        while nextChunk < chunkCount, let body = job {
            let k = nextChunk
            nextChunk += 1
            pthread_mutex_unlock(mutex)
            body(k)
            pthread_mutex_lock(mutex)
            finished += 1
            if finished == chunkCount { pthread_cond_signal(done) }
        }
    }

    private func serve() {
        pthread_mutex_lock(mutex)
        var seen = generation
        while true {
            while generation == seen { pthread_cond_wait(wake, mutex) }
            seen = generation
            runChunks()
        }
    }
}
