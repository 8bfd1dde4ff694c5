import LoomCore

/// What a forward pass, a prediction and a fit allocate, in bytes, so the
/// memory account can be asked before they run. Each figure is an upper
/// bound (a layer's buffers as training keeps them) and saturates at
/// `Int.max` rather than overflowing.
extension Sequential {
    /// Samples `predict` runs at a time.
    public static let inferenceBatch = 256

    /// What the model holds, in bytes: each parameter of its table once (a
    /// `share` line keeps none of its own) with its gradient and the
    /// optimizer's two moments, `bytesPerWeight` a weight; a mask, 4 bytes a
    /// weight; a clustered weight's index, 4 bytes a weight, and its codebook
    /// with the codebook's gradient and moments; a hashed layer's hash and
    /// the virtual matrix its replicas share, 8 bytes a virtual weight.
    public var heldBytes: Int {
        var total = 0
        for p in parameters {
            let n = p.value.count
            total = MemoryAccount.sum(total, MemoryAccount.product(n, Sequential.bytesPerWeight), p.mask == nil ? 0 : n * 4)
            if let clusters = p.clusters {
                total = MemoryAccount.sum(total, MemoryAccount.product(clusters.assignment.count, 4),
                                          MemoryAccount.product(clusters.centroids.count, Sequential.bytesPerWeight))
            }
        }
        for case let hashed as HashedDense in layers { total = MemoryAccount.sum(total, MemoryAccount.product(hashed.virtualCount, 8)) }
        return total
    }

    /// The floats one sample's pass keeps at most: the input and every
    /// layer's buffers.
    var floatsPerSample: Int {
        MemoryAccount.sum(inputShape.reduce(1, *), layers.reduce(0) { MemoryAccount.sum($0, $1.trainingFloatsPerSample) })
    }

    /// A forward pass over `samples` samples at once (`blockOutputs`,
    /// `input(toBlock:for:)`, `sparsity(on:)`, a block's activations).
    public func forwardBytes(samples: Int) -> Int { MemoryAccount.product(floatsPerSample, samples, 4) }

    /// One inference batch of `samples` samples (`predictInRuns`,
    /// `Metrics.evaluate`): a copy of its inputs, its pass, and its outputs
    /// with what the loss derives from them.
    public func inferenceBytes(samples: Int) -> Int {
        let copy = MemoryAccount.product(inputShape.reduce(1, *), 4), outputs = MemoryAccount.product(outputShape.reduce(1, *), 8)
        return MemoryAccount.sum(forwardBytes(samples: samples), MemoryAccount.product(samples, MemoryAccount.sum(copy, outputs)))
    }

    /// The most samples, up to `inferenceBatch`, an inference batch may take
    /// when `bytes` are free and each sample needs `extraPerSample` more
    /// (what the caller keeps of it); 0 when not even one sample fits.
    public func inferenceBatch(fitting bytes: Int, extraPerSample: Int = 0) -> Int {
        let one = MemoryAccount.sum(inferenceBytes(samples: 1), extraPerSample)
        return min(Sequential.inferenceBatch, bytes / max(1, one))
    }
}

extension Trainer {
    /// Memory a fit needs beyond the model's weights and optimizer state:
    /// what every layer keeps for a batch, the gradients of the replicas
    /// that run its shards (and each shard's hashed layers' virtual
    /// gradients), and evaluating `validationSamples` after each epoch.
    public static func batchBytes(_ model: Sequential, batchSize: Int, validationSamples: Int = 0) -> Int {
        let shards = ShardedStep.shards(batch: batchSize, model: model)
        // Each shard's hashed layers make their whole virtual gradient, 4 bytes a virtual weight.
        let virtual = model.layers.reduce(0) { MemoryAccount.sum($0, ($1 as? HashedDense)?.virtualCount ?? 0) }
        return MemoryAccount.sum(MemoryAccount.product(model.floatsPerSample - model.inputShape.reduce(1, *), batchSize, 4),
                                 MemoryAccount.product(shards - 1, model.parameterCount, 4), MemoryAccount.product(shards, virtual, 4),
                                 validationSamples > 0
                                     ? model.inferenceBytes(samples: min(validationSamples, Sequential.inferenceBatch)) : 0)
    }
}
