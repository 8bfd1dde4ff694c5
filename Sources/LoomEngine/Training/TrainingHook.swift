/// Work a fit does between its steps beyond the optimizer's: gradual
/// pruning sets masks, a snapshot keeps an epoch's weights. Hooks run on
/// the model's own parameters, after the optimizer, in the order given.
public protocol TrainingHook: AnyObject {
    /// Before the first step, with the steps each epoch will take.
    func fitStarts(batchesPerEpoch: Int)
    /// After optimizer step `step` (counted from 1 over the whole fit).
    func afterStep(_ step: Int)
    /// After epoch `epoch`'s last step (from 1 within the fit), before
    /// validation: a hook may add what it measured to the epoch's record.
    func afterEpoch(_ epoch: Int, record: inout EpochRecord)
}

extension TrainingHook {
    public func fitStarts(batchesPerEpoch: Int) {}
    public func afterStep(_ step: Int) {}
    public func afterEpoch(_ epoch: Int, record: inout EpochRecord) {}
}

/// Keeps every parameter's values after some epochs of a fit: what late
/// rewinding (Frankle et al. 2020) returns the surviving weights to.
public final class EpochSnapshot: TrainingHook {
    /// The epochs within the fit (from 1) whose weights are kept.
    public let epochs: Set<Int>
    private let parameters: [Parameter]
    /// Per epoch reached, in order: one array per parameter, in the model's table order.
    public private(set) var kept: [(epoch: Int, weights: [[Float]])] = []

    public init(of model: Sequential, afterEpochs epochs: Set<Int>) {
        self.epochs = epochs
        parameters = model.parameters
    }

    public func afterEpoch(_ epoch: Int, record: inout EpochRecord) {
        if epochs.contains(epoch) { kept.append((epoch, parameters.map(\.value.storage))) }
    }
}
