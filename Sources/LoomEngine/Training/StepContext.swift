/// What a training step shares with its layers. A layer that adds a penalty
/// to the loss (an L1 activity term) adds it here in its forward pass and
/// passes the penalty's gradient back in its backward pass, scaled by the
/// whole batch's size: a shard's layers see the batch, not the shard, so the
/// shards' penalties add up to the batch's.
public final class StepContext {
    /// Samples in the whole batch (the shards together).
    public let batch: Int
    /// The penalties' share of the batch's summed loss: a layer adds λ·Σ|a|
    /// over its shard, and its gradient is that of this sum divided by `batch`
    /// (the batch's mean loss gains penalty ÷ batch).
    public var penalty = 0.0

    public init(batch: Int) { self.batch = batch }
}
