import LoomCore
import LoomEngine

/// After each cell under several ranks: every rank ended it the same way
/// (no error, or the same error, which the notebook then records as one
/// process would), or the job stops with what each rank saw. A rank that
/// fails alone must not leave the others waiting for it in a training step.
enum RankAgreement {
    /// Seconds a failed rank waits for the others to end the cell. Ranks
    /// that fail alike get here together; one still running has not failed
    /// the same way, and may be waiting for this rank's shards.
    static let patience = 5.0

    static func check(_ result: ExecutionResult, ranks: any Collective = Ranks.current) {
        guard ranks.size > 1 else { return }
        var failure: String?
        if case .error(let e) = result { failure = "\(e.name): \(e.value)" }
        let mine = outcome(failure)
        guard let all = ranks.gather(mine, patience: failure == nil ? nil : patience) else {
            ranks.abort("loom: rank \(ranks.rank) failed: \(failure ?? "")\nloom: the other ranks did not end the cell within "
                        + "\(Int(patience)) s (they are still running it, without this rank); stopping every rank")
        }
        guard all.contains(where: { $0 != mine }) else { return }
        let failed = all.indices.filter { all[$0].last == 1 }.map(String.init).joined(separator: ", ")
        ranks.abort("loom: rank \(ranks.rank) " + (failure.map { "failed: \($0)" } ?? "ran the cell without an error")
                    + "\nloom: the ranks ended the cell differently (failed: rank \(failed)); stopping every rank")
    }

    /// Nine bytes: a hash of the error (FNV-1a) and whether there was one.
    static func outcome(_ failure: String?) -> [UInt8] {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in (failure ?? "").utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return (0..<8).map { UInt8(truncatingIfNeeded: hash >> (8 * $0)) } + [failure == nil ? 0 : 1]
    }
}
