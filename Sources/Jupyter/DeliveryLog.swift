import LoomCore

/// Replies a ROUTER socket could not deliver (the client's queue full, or the
/// client gone), logged once per burst: a line at the first drop, then the
/// count when a second has passed without drops and a reply gets through, or
/// when the kernel stops. The kernel never waits for a client that does not
/// read.
final class DeliveryLog: Sendable {
    let channel: String
    private struct Burst {
        var dropped = 0
        var lastDrop = 0.0
    }
    private let burst = Locked(Burst())
    static let quiet = 1.0

    init(channel: String) {
        self.channel = channel
    }

    func delivered() {
        burst.withLock { b in
            guard b.dropped > 0, Monotonic.now - b.lastDrop >= DeliveryLog.quiet else { return }
            report(&b, then: "; delivering again")
        }
    }

    func dropped(_ type: String) {
        burst.withLock { b in
            if b.dropped == 0 {
                KernelLog.warning("\(channel): dropped a \(type): the client is not reading (its queue is full) or is "
                                  + "gone; its replies are dropped until it reads")
            }
            b.dropped += 1
            b.lastDrop = Monotonic.now
        }
    }

    /// At shutdown: the count of a burst still going on.
    func finish() {
        burst.withLock { report(&$0, then: "") }
    }

    private func report(_ b: inout Burst, then: String) {
        if b.dropped > 0 {
            KernelLog.warning("\(channel): \(b.dropped) repl\(b.dropped == 1 ? "y" : "ies") dropped in all\(then)")
        }
        b = Burst()
    }
}
