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
    /// weight; a weight that trains sparsely, its pattern, values and
    /// sparse gradient (`SparsePattern.heldBytes`); a clustered weight's
    /// index, 4 bytes a weight, and its codebook with the codebook's
    /// gradient and moments; a hashed layer's codes and the virtual matrix
    /// its replicas share, 8 bytes a virtual weight.
    public var heldBytes: Int {
        var total = 0
        for p in parameters {
            let n = p.value.count
            total = MemoryAccount.sum(total, MemoryAccount.product(n, Sequential.bytesPerWeight), p.mask == nil ? 0 : n * 4,
                                      p.sparsePattern?.heldBytes ?? 0)
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

    /// One inference batch of `samples` samples on each of `ranks`
    /// (`predictInRuns`, `Metrics.evaluate`): its pass, and for the run of a
    /// batch per rank a copy of its inputs and its outputs with what the
    /// loss derives from them (gathered on every rank); under several ranks
    /// also this rank's batch, its inputs copied and its outputs kept until
    /// the gather.
    public func inferenceBytes(samples: Int, ranks: any Collective = Ranks.current) -> Int {
        let copy = MemoryAccount.product(inputShape.reduce(1, *), 4), outputs = outputShape.reduce(1, *)
        let run = MemoryAccount.product(samples, ranks.size, MemoryAccount.sum(copy, MemoryAccount.product(outputs, 8)))
        let own = ranks.size > 1 ? MemoryAccount.product(samples, MemoryAccount.sum(copy, MemoryAccount.product(outputs, 4))) : 0
        return MemoryAccount.sum(forwardBytes(samples: samples), run, own)
    }

    /// What `predict` over `samples` samples holds beside their gathered
    /// outputs under several ranks: this rank's run of batches (at most
    /// ⌈samples ÷ ranks⌉ samples and one batch of up to `inferenceBatch`),
    /// kept until the gather copies it. 0 in one process. For statements
    /// that keep every output of one `predict`.
    public func ownRunBytes(samples: Int, ranks: any Collective = Ranks.current) -> Int {
        guard ranks.size > 1 else { return 0 }
        let run = min(samples, samples / ranks.size + 1 + Sequential.inferenceBatch)
        return MemoryAccount.product(run, outputShape.reduce(1, *), 4)
    }

    /// The most samples, up to `inferenceBatch`, an inference batch may take
    /// when `bytes` are free and each sample needs `extraPerSample` more
    /// (what the caller keeps of it); 0 when not even one sample fits.
    public func inferenceBatch(fitting bytes: Int, extraPerSample: Int = 0, ranks: any Collective = Ranks.current) -> Int {
        let one = MemoryAccount.sum(inferenceBytes(samples: 1, ranks: ranks), extraPerSample)
        return min(Sequential.inferenceBatch, bytes / max(1, one))
    }
}

extension SparsePattern {
    /// What a weight training through this pattern holds beyond its dense
    /// arrays: the pattern (each nonzero's place, 8 bytes, and its column,
    /// row and row-order entries, 4 each; a start per input row and per
    /// output column, 8 each), the values gathered for the weight's version
    /// by row and by column (8 bytes a nonzero) and its sparse gradient (4).
    var heldBytes: Int {
        MemoryAccount.sum(MemoryAccount.product(count, 8 + 3 * 4 + 8 + 4), MemoryAccount.product(inputs + outputs + 2, 8))
    }
}

extension Trainer {
    /// Memory a fit needs beyond the model's weights and optimizer state:
    /// what every layer keeps for a batch, the gradients of the replicas
    /// that run its shards (and each shard's hashed layers' virtual
    /// gradients), what sparse training adds to a step (`sparseStepBytes`),
    /// the shards handed between `ranks` (`exchangeBytes`), and evaluating
    /// `validationSamples` after each epoch.
    public static func batchBytes(_ model: Sequential, batchSize: Int, validationSamples: Int = 0,
                                  ranks: any Collective = Ranks.current) -> Int {
        let shards = ShardedStep.shards(batch: batchSize, model: model)
        // Each shard's hashed layers make their whole virtual gradient, 4 bytes a virtual weight.
        let virtual = model.layers.reduce(0) { MemoryAccount.sum($0, ($1 as? HashedDense)?.virtualCount ?? 0) }
        return MemoryAccount.sum(MemoryAccount.product(model.floatsPerSample - model.inputShape.reduce(1, *), batchSize, 4),
                                 MemoryAccount.product(shards - 1, model.parameterCount, 4), MemoryAccount.product(shards, virtual, 4),
                                 sparseStepBytes(model, shards: shards), exchangeBytes(model, shards: shards, ranks: ranks),
                                 validationSamples > 0
                                     ? model.inferenceBytes(samples: min(validationSamples, Sequential.inferenceBatch), ranks: ranks) : 0)
    }

    /// What a step of `shards` shards adds for each weight that trains
    /// sparsely: the replicas' sparse gradients (4 bytes a nonzero each),
    /// the next version's gathered values beside the last (8), and in every
    /// shard the products' blocks of eight samples' inputs and outputs, and
    /// over a convolution's patches each nonzero's eight lane sums (32). The
    /// optimizer's gathered weights and gradient (8 bytes a nonzero) fit in
    /// the moments it then keeps per nonzero rather than per weight.
    static func sparseStepBytes(_ model: Sequential, shards: Int) -> Int {
        let patches = Set(model.layers.compactMap { ($0 as? Conv2D)?.weight }.map(ObjectIdentifier.init))
        var total = 0
        for p in model.parameters {
            guard let pattern = p.sparsePattern else { continue }
            let blocks = MemoryAccount.product(pattern.inputs + pattern.outputs + 1, SparseProducts.lanes, 4)
            let laneSums = patches.contains(ObjectIdentifier(p)) ? MemoryAccount.product(pattern.count, SparseProducts.lanes, 4) : 0
            total = MemoryAccount.sum(total, MemoryAccount.product(shards - 1, pattern.count, 4), MemoryAccount.product(pattern.count, 8),
                                      MemoryAccount.product(shards, MemoryAccount.sum(blocks, laneSums)))
        }
        return total
    }

    /// Under several ranks, a step of several shards hands them over in one
    /// gather (`ShardedStep.exchange`): each shard's gradients, dense and
    /// sparse, its sums and its layers' records, every shard's gathered on
    /// every rank beside those this rank computed. Nothing otherwise.
    static func exchangeBytes(_ model: Sequential, shards: Int, ranks: any Collective) -> Int {
        guard ranks.size > 1, shards > 1 else { return 0 }
        let nonzeros = model.parameters.reduce(0) { $0 + ($1.sparsePattern?.count ?? 0) }
        let records = model.layers.reduce(0) { $0 + $1.stepRecord.count }
        let shard = MemoryAccount.sum(MemoryAccount.product(MemoryAccount.sum(model.parameterCount, nonzeros), 4),
                                      MemoryLayout<ShardedStep.Result>.size, MemoryAccount.product(records, MemoryLayout<Int>.size))
        let computedHere = (shards + ranks.size - 1) / ranks.size
        return MemoryAccount.product(shards + computedHere, shard)
    }
}
