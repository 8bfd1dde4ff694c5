import CMalloc
import CZeroMQ
import Dispatch
import LoomCore

/// The iopub channel. One thread owns the XPUB socket: it forwards what the
/// other threads publish (through an in-process queue) and greets each new
/// subscriber with `iopub_welcome`, so a client knows when it is listening.
final class IOPubPublisher: @unchecked Sendable {
    let publisher: ZeroMQSocket
    let inbox: ZeroMQSocket
    let outbox: Locked<ZeroMQSocket>
    let flushed = DispatchSemaphore(value: 0)
    let welcome: @Sendable (String) -> [[UInt8]]
    private var thread: BackgroundThread?
    static let inboxEndpoint = "inproc://loom-iopub"
    static let highWaterMark = 1000

    /// Binds `endpoint`; `welcome` makes the signed frames greeting a topic.
    init(context: ZeroMQContext, endpoint: String, welcome: @escaping @Sendable (String) -> [[UInt8]]) throws(ZeroMQError) {
        publisher = try ZeroMQSocket(context, .xpub)
        publisher.setOption(ZMQ_XPUB_VERBOSE, Int32(1))
        publisher.limitInbound(to: WireMessage.maximumBytes, frames: WireMessage.maximumFrames)  // subscriptions come in
        // ZeroMQ's default high-water mark, as ipykernel: past 1,000 messages
        // queued for a subscriber that does not read, its messages are dropped
        // rather than held (stream text is coalesced, so that is 64 MiB at most).
        publisher.setOption(ZMQ_SNDHWM, Int32(IOPubPublisher.highWaterMark))
        try publisher.bind(endpoint)
        inbox = try ZeroMQSocket(context, .pull)
        inbox.setOption(ZMQ_RCVHWM, Int32(IOPubPublisher.highWaterMark))
        try inbox.bind(IOPubPublisher.inboxEndpoint + "-\(ObjectIdentifier(publisher).hashValue)")
        let push = try ZeroMQSocket(context, .push)
        // The in-process queue is bounded too: a cell that publishes faster
        // than this thread forwards waits for it.
        push.setOption(ZMQ_SNDHWM, Int32(IOPubPublisher.highWaterMark))
        try push.connect(IOPubPublisher.inboxEndpoint + "-\(ObjectIdentifier(publisher).hashValue)")
        outbox = Locked(push)
        self.welcome = welcome
    }

    /// Starts the thread that owns the sockets; without it, closes them
    /// here, so the context can end.
    func start() throws(ThreadError) {
        do { thread = try BackgroundThread { [self] in run() } } catch {
            publisher.close()
            inbox.close()
            outbox.withLock { $0.close() }
            throw error
        }
    }

    /// Queues a message; any thread.
    func send(_ frames: [[UInt8]]) {
        outbox.withLock { socket in
            do { try socket.send(frames: frames) } catch let error as ZeroMQError {
                if !error.isTerminated { KernelLog.error("iopub: \(error)") }
            } catch {}
        }
    }

    /// Returns once everything queued before the call has been handed to
    /// ZeroMQ (or after a second, if the channel is gone).
    func flush() {
        send([[]])
        _ = flushed.wait(timeout: .now() + 1)
    }

    /// Waits for the thread to end, and lets it go (its closure holds this object).
    func join() {
        thread?.join()
        thread = nil
    }

    /// Messages published before anyone subscribed, kept (up to a bound)
    /// for the first subscriber: a client that connects while the kernel
    /// starts, and sends a request at once, would otherwise miss the replies'
    /// side of it on iopub (ZeroMQ drops what a PUB socket sends to no one).
    private var early: [[[UInt8]]] = []
    private var hasSubscriber = false
    static let earlyLimit = 1000
    /// When to hand freed memory back to the system: a moment after a
    /// subscriber leaves, once ZeroMQ has freed what was queued for it.
    private var trimAt: Double?

    private func run() {
        defer {
            publisher.close()
            inbox.close()
            outbox.withLock { $0.close() }
        }
        while true {
            let ready: [Bool]
            let timeout = trimAt.map { max(0, Int(($0 - Monotonic.now) * 1000)) } ?? -1
            do { ready = try ZeroMQSocket.poll([publisher, inbox], timeoutMilliseconds: timeout) } catch { return }
            if let due = trimAt, Monotonic.now >= due {
                trimAt = nil
                malloc_trim(0)
            }
            do {
                if ready[1], let frames = try inbox.receiveFrames(wait: false) {
                    if frames == [[]] {
                        flushed.signal()
                    } else if hasSubscriber {
                        try publisher.send(frames: frames)
                    } else {
                        early.append(frames)
                        if early.count > IOPubPublisher.earlyLimit { early.removeFirst() }
                    }
                }
                guard ready[0], let frames = try publisher.receiveFrames(wait: false), let first = frames.first else {
                    continue
                }
                if first.first == 0 {  // a subscriber left (or unsubscribed)
                    trimAt = Monotonic.now + 0.5
                } else if first.first == 1 {
                    let topic = String(decoding: first.dropFirst(), as: UTF8.self)
                    try publisher.send(frames: welcome(topic))
                    if !hasSubscriber {
                        hasSubscriber = true
                        for message in early { try publisher.send(frames: message) }
                        early = []
                    }
                }
            } catch {
                if !error.isTerminated { KernelLog.error("iopub: \(error)") }
                return
            }
        }
    }
}
