import LoomCore

/// Remembers recent signatures so a captured message cannot be sent again
/// (jupyter_client's Session does the same). Shared by the shell and control
/// threads.
final class ReplayGuard: Sendable {
    private struct State {
        var seen = Set<[UInt8]>()
        var order: [[UInt8]] = []
    }
    private let state = Locked(State())
    let capacity: Int

    init(capacity: Int = 65536) { self.capacity = capacity }

    /// True the first time `signature` is offered, false after.
    func admit(_ signature: [UInt8]) -> Bool {
        state.withLock { s in
            guard s.seen.insert(signature).inserted else { return false }
            s.order.append(signature)
            if s.order.count > capacity {
                let drop = capacity / 2
                for old in s.order[..<drop] { s.seen.remove(old) }
                s.order.removeFirst(drop)
            }
            return true
        }
    }
}
