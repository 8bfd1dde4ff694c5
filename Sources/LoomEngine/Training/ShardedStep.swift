/// One training step with the batch split into shards that run side by side
/// on `Parallel.threads` threads. Each shard goes forward and backward
/// through its own replica of the model (shared weights, its own caches and
/// gradients); the shards' gradients are then added in shard order. How a
/// batch is sharded depends only on its size, so a step gives the same
/// numbers whatever the thread count. Under several ranks each computes the
/// shards dealt to it and hands them to the others (`exchange`), so every
/// rank adds the same gradients in the same order: the numbers of one process.
final class ShardedStep {
    /// Shards per batch at most: enough to keep a few cores busy without a
    /// gradient copy per sample. Samples per shard at least: what the
    /// model's layers ask for (`Layer.minimumShard`, 8 for most).
    static let maximumShards = 4

    static func shards(batch: Int, model: Sequential) -> Int {
        let minimum = model.layers.map(\.minimumShard).max() ?? 8
        return max(1, min(maximumShards, batch / minimum))
    }

    let model: Sequential
    let ranks: any Collective
    /// Replicas for shards 1, 2, …; shard 0 runs on the model itself.
    private var replicas: [Sequential] = []
    /// How many shards the last `run` used, for `finish`.
    private var shardsOfLastRun = 0

    /// The kernels `l2` decays, once a step after the shards (see `WeightDecay`).
    private let decay: WeightDecay

    init(model: Sequential, ranks: any Collective = Ranks.current) {
        self.model = model
        self.ranks = ranks
        decay = WeightDecay(model)
    }

    /// A step's sums over its samples, which the fit loop turns into means.
    struct Result {
        var lossSum = 0.0
        /// Correctly classified samples (class labels only).
        var correct = 0
        /// Σ |output − target| (real-valued targets only).
        var absoluteErrorSum = 0.0
        /// Σ (output − target)² (real-valued targets, when the loss is bce;
        /// for mse it is the loss).
        var squaredErrorSum = 0.0
        /// The penalties' share of `lossSum`: the layers' (see `StepContext`) and weight decay's.
        var penaltySum = 0.0

        static func + (a: Result, b: Result) -> Result {
            Result(lossSum: a.lossSum + b.lossSum, correct: a.correct + b.correct,
                   absoluteErrorSum: a.absoluteErrorSum + b.absoluteErrorSum,
                   squaredErrorSum: a.squaredErrorSum + b.squaredErrorSum, penaltySum: a.penaltySum + b.penaltySum)
        }
    }

    /// Forward and backward over samples `indices` of `data`, leaving the
    /// batch's gradient in the model's parameters, weight decay's included.
    func run(_ data: Dataset, indices: ArraySlice<Int>, loss: Loss, fused: Bool) -> Result {
        let n = indices.count, count = ShardedStep.shards(batch: n, model: model)
        while replicas.count < count - 1 { replicas.append(model.replica()) }
        let models = [model] + replicas.prefix(count - 1)
        let modelParameters = models.map(\.parameters)
        for p in modelParameters[0] { p.prepareSparseValues() }
        for shard in 1..<max(1, count) {
            for (copy, original) in zip(modelParameters[shard], modelParameters[0]) { copy.value = original.value }
        }
        // The shards are the threads' work; BLAS inside each stays on one.
        if count > 1 { BLAS.setThreads(1) }
        defer { if count > 1 { BLAS.setThreads(Parallel.threads) } }
        var results = [Result](repeating: Result(), count: count)
        let mine = (0..<count).filter { ranks.computes(shard: $0, of: count) }
        results.withUnsafeMutableBufferPointer { out in
            let start = indices.startIndex
            Parallel.chunks(mine.count) { chunk in
                for shard in chunk.map({ mine[$0] }) {
                    for p in modelParameters[shard] { p.zeroGradient() }
                    let samples = Array(indices[(start + n * shard / count)..<(start + n * (shard + 1) / count)])
                    let x = data.inputs.gathering(samples: samples)
                    out[shard] = ShardedStep.step(models[shard], x, targets: data.targets.gathering(samples, inputs: x),
                                                  batch: n, loss: loss, fused: fused)
                }
            }
        }
        if mine.count < count { exchange(count: count, models: models, parameters: modelParameters, results: &results) }
        addShardGradients(modelParameters)
        var total = results.reduce(Result(), +)
        if !decay.kernels.isEmpty {
            // The batch's mean loss gains the penalty once: its sum over the batch, n times it.
            let penalty = decay.addGradients() * Double(n)
            total.lossSum += penalty
            total.penaltySum += penalty
        }
        shardsOfLastRun = count
        // Let go of the shared weights, so the optimizer updates them in place.
        for shard in 1..<max(1, count) {
            for copy in modelParameters[shard] { copy.value = Tensor(shape: [0], storage: []) }
        }
        return total
    }

    /// After a step whose update is applied: state that follows the batch
    /// (k-winners' duty cycles, batch normalisation's moving figures) folds
    /// in what every shard of the last `run` saw. A batch whose loss is not
    /// finite is not applied, so it is not folded in either.
    func finish() {
        let layers = ([model] + replicas.prefix(max(0, shardsOfLastRun - 1))).map(\.layers)
        for (i, layer) in layers[0].enumerated() { layer.finishStep(shards: layers.map { $0[i] }) }
    }

    private static func step(_ model: Sequential, _ x: Tensor, targets: BatchTargets, batch: Int, loss: Loss,
                             fused: Bool) -> Result {
        let context = StepContext(batch: batch)
        let output = model.forward(x, step: context)
        let (value, gradient) = loss.evaluate(output, targets: targets, withGradient: !fused, batch: batch,
                                              objective: loss == .lasso ? model.lassoObjective : nil)
        if fused {
            model.backward(loss.fusedGradient(probabilities: output, targets: targets, batch: batch), fromLogits: true)
        } else {
            model.backward(gradient)
        }
        var result = Result(lossSum: value * Double(targets.count) + context.penalty, penaltySum: context.penalty)
        switch targets {
        case .classes(let labels): result.correct = Metrics.correct(output, labels: labels)
        case .values(let t) where loss != .lasso:
            result.absoluteErrorSum = Metrics.absoluteErrorSum(output, t)
            if loss == .bce { result.squaredErrorSum = Metrics.squaredErrorSum(output, t) }
        case .values, .none: break
        }
        return result
    }

    /// Adds shards 1, 2, … into shard 0's gradients, in that order for every
    /// value; each parameter's values are split across threads.
    private func addShardGradients(_ parameters: [[Parameter]]) {
        guard parameters.count > 1 else { return }
        for (p, target) in parameters[0].enumerated() {
            if let pattern = target.sparsePattern {
                if pattern.count > 0 { target.sparseGradient.withUnsafeMutableBufferPointer { total in
                    for shard in parameters.dropFirst() {
                        shard[p].sparseGradient.withUnsafeBufferPointer { Vector.add($0.baseAddress!, into: total.baseAddress!, count: total.count) }
                    }
                } }
                if !target.keepsDenseGradient { continue }
            }
            target.gradient.storage.withUnsafeMutableBufferPointer { total in
                let into = total.baseAddress!
                Parallel.chunks(total.count, minimumChunk: 16384) { range in
                    for shard in parameters.dropFirst() {
                        shard[p].gradient.storage.withUnsafeBufferPointer { g in
                            Vector.add(g.baseAddress! + range.lowerBound, into: into + range.lowerBound, count: range.count)
                        }
                    }
                }
            }
        }
    }
}
