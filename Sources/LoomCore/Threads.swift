#if canImport(Glibc)
import Glibc
#endif

/// A POSIX thread for a blocking loop (a socket server, a heartbeat). Kept
/// apart from Swift's task pool, which has one thread per core and must
/// never block.
public final class BackgroundThread: @unchecked Sendable {
    private var handle = pthread_t()
    private let body: @Sendable () -> Void

    /// Starts `body` on a new thread at once.
    public init(_ body: @escaping @Sendable () -> Void) {
        self.body = body
        let unmanaged = Unmanaged.passRetained(self)
        let rc = pthread_create(&handle, nil, { raw in
            let thread = Unmanaged<BackgroundThread>.fromOpaque(raw!).takeRetainedValue()
            thread.body()
            return nil
        }, unmanaged.toOpaque())
        if rc != 0 {
            unmanaged.release()
            body()  // no thread to be had: run it here rather than lose it
        }
    }

    /// Waits for the thread to finish.
    public func join() {
        pthread_join(handle, nil)
    }
}
