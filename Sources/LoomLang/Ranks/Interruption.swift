import LoomCore
import LoomEngine

/// Whether the user asked the running cell to stop. Under several ranks only
/// rank 0 hears the user (the kernel's interrupt, `loom run`'s timeout), and
/// every rank must stop at the same point or the others would wait for it
/// in a step's exchange: `agreed` is rank 0's flag, learnt by every rank at
/// points every rank passes in the same order; `local` is false there.
enum Interruption {
    /// This process's flag, for loops that may run a different number of
    /// times on each rank (inside the engine); false under several ranks.
    static var local: Bool { Ranks.current.size == 1 && interruptFlag.load(ordering: .relaxed) }

    /// Rank 0's flag on every rank: between statements, loop iterations,
    /// training batches and sleep ticks. One small broadcast under ranks.
    static func agreed(ranks: any Collective = Ranks.current) -> Bool {
        let mine = interruptFlag.load(ordering: .relaxed)
        guard ranks.size > 1 else { return mine }
        var flag: UInt8 = mine ? 1 : 0
        withUnsafeMutableBytes(of: &flag) { ranks.broadcast($0, from: 0) }
        return flag != 0
    }
}
