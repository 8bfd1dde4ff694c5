import LoomCore
import LoomEngine
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The engine's threads: chunks run once each on any count, and a thread the
/// system refuses is known at once instead of waited for.
final class ThreadLimitTests: XCTestCase {
    func testEveryChunkRunsOnceOnAnyThreadCount() {
        let saved = Parallel.threads
        defer { Parallel.setThreads(saved) }
        for threads in [1, 2, 3, 8] {
            XCTAssertEqual(Parallel.setThreads(threads), threads)
            let hits = Locked([Int](repeating: 0, count: 1000))
            for _ in 0..<50 {
                Parallel.chunks(1000) { range in hits.withLock { for i in range { $0[i] += 1 } } }
            }
            XCTAssertEqual(hits.withLock { $0 }, [Int](repeating: 50, count: 1000), "\(threads) threads")
        }
    }

    func testLoopsInsideAChunkStayOnItsThread() {
        let saved = Parallel.threads
        defer { Parallel.setThreads(saved) }
        Parallel.setThreads(4)
        let inner = Locked(0)
        Parallel.chunks(4) { _ in
            Parallel.chunks(100) { range in inner.withLock { $0 += range.count } }
        }
        XCTAssertEqual(inner.withLock { $0 }, 400)
    }

    func testTheProbeCountsTheThreadsTheSystemWouldStart() {
        XCTAssertEqual(ThreadProbe.startable(6, mapping: 1 << 20, spare: 1 << 20), 6)
        // Under an address-space cap, as `ulimit -v` sets, only some fit, and
        // the probe says how many at once; nothing is left behind.
        var saved = rlimit()
        getrlimit(Int32(RLIMIT_AS.rawValue), &saved)
        let used = Self.addressSpaceInUse()
        var capped = rlimit(rlim_cur: rlim_t(used + (600 << 20)), rlim_max: saved.rlim_max)
        XCTAssertEqual(setrlimit(Int32(RLIMIT_AS.rawValue), &capped), 0)
        let started = ThreadProbe.startable(64, mapping: 100 << 20, spare: 64 << 20)
        setrlimit(Int32(RLIMIT_AS.rawValue), &saved)
        XCTAssertGreaterThan(started, 0)
        XCTAssertLessThan(started, 6)
        XCTAssertEqual(Self.addressSpaceInUse() >> 20, used >> 20, accuracy: 48)  // glibc keeps a few stacks
    }

    func testAThreadTheSystemRefusesIsAnErrorNotAWait() {
        var saved = rlimit()
        getrlimit(Int32(RLIMIT_AS.rawValue), &saved)
        var capped = rlimit(rlim_cur: rlim_t(Self.addressSpaceInUse() + (256 << 20)), rlim_max: saved.rlim_max)
        setrlimit(Int32(RLIMIT_AS.rawValue), &capped)
        // Threads that wait until released (two seconds at most) are started
        // until the cap refuses one; stacks glibc kept are used up first.
        let released = Locked(false)
        var threads: [BackgroundThread] = []
        var refusal: ThreadError?
        let started = ContinuousClock.now
        while refusal == nil && threads.count < 200 {
            do {
                threads.append(try BackgroundThread {
                    let deadline = ContinuousClock.now + .seconds(2)
                    while !released.withLock({ $0 }) && ContinuousClock.now < deadline { usleep(1000) }
                })
            } catch { refusal = error }
        }
        setrlimit(Int32(RLIMIT_AS.rawValue), &saved)
        released.withLock { $0 = true }
        threads.forEach { $0.join() }
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(1), "a refused thread was waited for")
        XCTAssertTrue(refusal?.description.hasPrefix("cannot start a thread: ") == true, "\(String(describing: refusal))")
    }

    /// VmSize: the address space the process has mapped, in bytes.
    static func addressSpaceInUse() -> Int {
        let status = (try? Files.readText("/proc/self/status")) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmSize:") } ?? ""
        return (Int(line.split(separator: " ")[1]) ?? 0) * 1024
    }
}
