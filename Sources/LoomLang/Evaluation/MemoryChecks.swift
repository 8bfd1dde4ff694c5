import LoomCore
import LoomEngine
import LoomRender

/// The evaluator's side of the session's `MemoryAccount`: each statement
/// that allocates asks it through these before allocating, and a refusal
/// becomes an error at the statement that names what needed how much.
extension Evaluator {
    /// What the running statement may still allocate: the session's limit
    /// less what its other names hold.
    var memoryBudget: Int { session.memory.available }

    /// Refuses, before allocating, what would not fit in memory beside what
    /// the session holds already.
    func checkMemory(bytes: Int, what: @autoclosure () -> String, at range: SourceRange) throws(LoomError) {
        do { try session.memory.require(bytes, for: what()) } catch { throw memoryError(error, at: range) }
    }

    /// A refusal as the user reads it: what needed how much, beside what is
    /// held, and how to make room.
    func memoryError(_ e: MemoryError, at range: SourceRange) -> LoomError {
        let needed = "\(e.what) would need \(NumberFormat.bytes(e.bytes))"
        if e.held == 0 || e.bytes > e.limit {
            return LoomError(.value, "\(needed), more than the \(NumberFormat.bytes(e.limit)) Loom allows (`set memory` raises it)",
                             at: range)
        }
        return LoomError(.value, "\(needed), and the session holds \(NumberFormat.bytes(e.held)) of the "
                         + "\(NumberFormat.bytes(e.limit)) Loom allows: `list` shows what each name holds, `delete NAME` frees it, "
                         + "`set memory` raises the limit", at: range)
    }

    /// A value about to be held under `name`. Numbers are too small to count.
    func checkMemory(_ value: Value, named name: String, at range: SourceRange) throws(LoomError) {
        switch value {
        case .number, .percent: return
        default: try checkMemory(bytes: value.bytes, what: "`\(name)` (a \(value.typeName))", at: range)
        }
    }

    /// `a + b` of strings, refused before the joined string is made when it would not fit.
    func joined(_ a: String, _ b: String, at range: SourceRange) throws(LoomError) -> String {
        try checkJoining(a, b, at: range)
        return a + b
    }

    /// Refuses joining `a` and `b` when the joined string would not fit.
    func checkJoining(_ a: String, _ b: String, at range: SourceRange) throws(LoomError) {
        try checkMemory(bytes: MemoryAccount.sum(a.utf8.count, b.utf8.count, 16), what: "joining strings of "
                        + "\(NumberFormat.grouped(a.utf8.count)) and \(NumberFormat.grouped(b.utf8.count)) bytes", at: range)
    }

    /// The batch `model` runs inference in over `samples` samples (`evaluate`,
    /// `predict`, `compare`, `encode`, `show sparsity … on`, `show
    /// activations`): as many samples as fit, up to 256, beside `keeping`
    /// bytes a sample that the statement holds for the whole run (codes it
    /// defines, a copy of the samples) and `perBatchSample` bytes a sample of
    /// the batch it copies besides; `keepsEveryOutput`: it keeps the outputs
    /// of one `predict` over them all, which under several ranks also holds
    /// this rank's share until the gather (`Sequential.ownRunBytes`). Any
    /// number of samples runs so; refused only when not even one sample fits.
    func inferenceBatch(_ model: Sequential, samples: Int, keeping: Int = 0, perBatchSample: Int = 0,
                        keepsEveryOutput: Bool = false, at range: SourceRange) throws(LoomError) -> Int {
        let kept = MemoryAccount.sum(MemoryAccount.product(samples, keeping), keepsEveryOutput ? model.ownRunBytes(samples: samples) : 0)
        let batch = model.inferenceBatch(fitting: kept >= memoryBudget ? 0 : memoryBudget - kept, extraPerSample: perBatchSample)
        if batch > 0 { return batch }
        let keptNote = keeping > 0 ? ", keeping \(NumberFormat.bytes(keeping)) of each" : ""
        try checkMemory(bytes: MemoryAccount.sum(kept, model.inferenceBytes(samples: 1), perBatchSample),
                        what: "running `\(model.name)` on \(NumberFormat.grouped(samples)) samples one at a time\(keptNote)",
                        at: range)
        return 1
    }
}
