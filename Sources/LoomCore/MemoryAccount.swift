/// The one account of the memory a session may use (`set memory`): what its
/// names hold, and what a statement is about to allocate beside them.
/// Every path that allocates in proportion to its input (data files, models,
/// training and inference batches, dictionaries and their Gram matrix,
/// codes, values, results tables) asks it first, so a refusal comes before
/// the allocation and names what needed how much.
public final class MemoryAccount {
    /// The most bytes the session may hold and allocate at once.
    public var limit: Int
    /// The name the running statement replaces: its old object is freed by
    /// the replacement, so it does not count against the new one.
    public var replacing: String?
    private let held: (_ excluding: String?) -> Int

    /// `held` says what the session's names hold, all but the one named.
    public init(limit: Int, held: @escaping (_ excluding: String?) -> Int) {
        self.limit = limit
        self.held = held
    }

    /// What the session's names hold, but the one being replaced.
    public var heldBytes: Int { held(replacing) }

    /// What a statement may still allocate.
    public var available: Int { max(0, limit - heldBytes) }

    /// Refuses an allocation of `bytes` for `what` that would not fit beside
    /// what the session holds.
    public func require(_ bytes: Int, for what: @autoclosure () -> String) throws(MemoryError) {
        let held = heldBytes
        guard bytes > limit - held else { return }
        throw MemoryError(what: what(), bytes: bytes, held: held, limit: limit)
    }

    /// The product of `factors` (counts and an element's size), or `Int.max`
    /// when it overflows: a size no limit allows.
    public static func product(_ factors: Int...) -> Int {
        var total = 1
        for f in factors {
            guard f >= 0 else { return Int.max }
            let (p, overflow) = total.multipliedReportingOverflow(by: f)
            if overflow { return Int.max }
            total = p
        }
        return total
    }

    /// `terms` added, or `Int.max` when the sum overflows.
    public static func sum(_ terms: Int...) -> Int {
        var total = 0
        for t in terms {
            let (s, overflow) = total.addingReportingOverflow(t)
            if overflow || t < 0 { return Int.max }
            total = s
        }
        return total
    }
}

/// An allocation the memory account refused: what needed how many bytes,
/// what the session held then, and the limit.
public struct MemoryError: Error, Sendable, Equatable {
    public let what: String
    public let bytes: Int
    public let held: Int
    public let limit: Int
}
