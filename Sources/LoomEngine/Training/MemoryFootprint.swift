import LoomCore

/// What a forward pass, a prediction and a fit allocate, in bytes, so the
/// memory account can be asked before they run. Each figure is an upper
/// bound (a layer's buffers as training keeps them) and saturates at
/// `Int.max` rather than overflowing.
extension Sequential {
    /// Samples `predict` runs at a time.
    public static let inferenceBatch = 256

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
    /// that run its shards, and evaluating `validationSamples` after each epoch.
    public static func batchBytes(_ model: Sequential, batchSize: Int, validationSamples: Int = 0) -> Int {
        let replicas = ShardedStep.shards(batch: batchSize, model: model) - 1
        return MemoryAccount.sum(MemoryAccount.product(model.floatsPerSample - model.inputShape.reduce(1, *), batchSize, 4),
                                 MemoryAccount.product(replicas, model.parameterCount, 4),
                                 validationSamples > 0
                                     ? model.inferenceBytes(samples: min(validationSamples, Sequential.inferenceBatch)) : 0)
    }
}
