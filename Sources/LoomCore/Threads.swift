#if canImport(Glibc)
import Glibc
#endif

/// The system would not start a thread: a limit on processes (`ulimit -u`)
/// or on address space (`ulimit -v`) was reached.
public struct ThreadError: Error, CustomStringConvertible, Equatable {
    public let reason: String
    public init(reason: String) { self.reason = reason }
    public var description: String {
        "cannot start a thread: \(reason) (a limit on processes or address space, `ulimit -u` or `ulimit -v`, was reached)"
    }
}

/// A POSIX thread for a blocking loop (a socket server, a heartbeat). Kept
/// apart from Swift's task pool, which has one thread per core and must
/// never block.
public final class BackgroundThread: @unchecked Sendable {
    private var handle = pthread_t()
    private let body: @Sendable () -> Void

    /// Starts `body` on a new thread at once; throws when the system will not
    /// start one (running it here instead would block the caller for good).
    public init(_ body: @escaping @Sendable () -> Void) throws(ThreadError) {
        self.body = body
        let unmanaged = Unmanaged.passRetained(self)
        let rc = pthread_create(&handle, nil, { raw in
            let thread = Unmanaged<BackgroundThread>.fromOpaque(raw!).takeRetainedValue()
            thread.body()
            return nil
        }, unmanaged.toOpaque())
        if rc != 0 {
            unmanaged.release()
            throw ThreadError(reason: String(cString: strerror(rc)))
        }
    }

    /// Waits for the thread to finish.
    public func join() {
        pthread_join(handle, nil)
    }
}

/// Finds out how many threads the system will start before a library that
/// does not check is asked to start them (OpenBLAS 0.3.21 starts its threads
/// unchecked, then waits forever for one that never started).
public enum ThreadProbe {
    /// How many of `count` threads can run at once, each also mapping `bytes`
    /// of address space (what each real thread will map), while `spare` bytes
    /// of address space stay free for the work. The probes end before this
    /// returns, and are gone from the process, so the real threads can take
    /// their place.
    public static func startable(_ count: Int, mapping bytes: Int, spare: Int) -> Int {
        guard count > 0, let kept = reserve(spare) else { return 0 }
        defer { release(kept, spare) }
        let threadsBefore = threadsInProcess()
        // The probes allocate nothing: a thread that mallocs gets an arena
        // of its own, which outlives it.
        let gate = Locked(ProbeState())
        var probes: [BackgroundThread] = []
        for _ in 0..<count {
            let started = Locked(false)
            guard let probe = try? BackgroundThread({
                let mapping = reserve(bytes)
                if mapping != nil { gate.withLock { $0.mapped += 1 } }
                started.withLock { $0 = true }
                while !gate.withLock({ $0.release }) { pause() }
                if let mapping { release(mapping, bytes) }
            }) else { break }
            probes.append(probe)
            while !started.withLock({ $0 }) { pause() }
            if gate.withLock({ $0.mapped }) < probes.count { break }
        }
        gate.withLock { $0.release = true }
        probes.forEach { $0.join() }
        // A joined thread still counts against `ulimit -u` for a moment, until
        // the system has reaped it: wait (a second at most) until it has.
        let deadline = Monotonic.now + 1
        while threadsInProcess() > threadsBefore && Monotonic.now < deadline { pause() }
        return gate.withLock { $0.mapped }
    }

    private struct ProbeState {
        var mapped = 0
        var release = false
    }

    /// The threads the process has now (`Threads:` in /proc/self/status).
    private static func threadsInProcess() -> Int {
        let status = (try? Files.readText("/proc/self/status")) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("Threads:") } ?? ""
        return line.split(separator: "\t").last.flatMap { Int($0) } ?? 0
    }

    /// `bytes` of address space, neither readable nor backed by memory.
    private static func reserve(_ bytes: Int) -> UnsafeMutableRawPointer? {
        let p = mmap(nil, max(bytes, 1), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        return p == MAP_FAILED ? nil : p
    }

    private static func release(_ mapping: UnsafeMutableRawPointer, _ bytes: Int) {
        munmap(mapping, max(bytes, 1))
    }

    /// A short wait for another thread (50 µs).
    private static func pause() {
        var ts = timespec(tv_sec: 0, tv_nsec: 50_000)
        nanosleep(&ts, nil)
    }
}

/// A value behind a POSIX mutex, for state several threads share. Used
/// instead of Synchronization's `Mutex`, which waits on a futex that
/// ThreadSanitizer cannot see (so every access it guards is reported as a
/// race); a pthread mutex is understood, and `make sanitize` stays meaningful.
public final class Locked<Value>: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var value: Value

    public init(_ value: Value) {
        self.value = value
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    public func withLock<Result, E: Error>(_ body: (inout Value) throws(E) -> Result) throws(E) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
