/// How sparse a model's blocks are, measured: the numbers behind sparsity
/// reports, as plain values any report (or test) can read.
public struct BlockSparsity: Sendable, Equatable {
    public var name: String
    /// Stored weights and biases, and how many of them are exactly zero.
    public var weights: Int
    public var zeroWeights: Int
    /// The share of the block's outputs that are zero on the data measured
    /// (nil when no data was given).
    public var zeroActivations: Double?
    /// On the data measured: the outputs per sample (units), how many are
    /// nonzero on average, how many are zero for every sample (dead) and
    /// how many for none (always on).
    public var units: Int
    public var meanActive: Double?
    public var deadUnits: Int?
    public var alwaysOnUnits: Int?

    public init(name: String, weights: Int, zeroWeights: Int, zeroActivations: Double? = nil, units: Int = 0,
                meanActive: Double? = nil, deadUnits: Int? = nil, alwaysOnUnits: Int? = nil) {
        self.name = name
        self.weights = weights
        self.zeroWeights = zeroWeights
        self.zeroActivations = zeroActivations
        self.units = units
        self.meanActive = meanActive
        self.deadUnits = deadUnits
        self.alwaysOnUnits = alwaysOnUnits
    }

    /// The activity measured (`UnitActivity`) as the report shows it.
    mutating func measure(_ activity: UnitActivity) {
        let (n, u, total) = (activity.samples, activity.units, activity.nonzeros)
        units = u
        zeroActivations = 1 - Double(total) / Double(max(1, n * u))
        meanActive = Double(total) / Double(max(1, n))
        deadUnits = activity.deadUnits
        alwaysOnUnits = activity.alwaysOnUnits
    }

    public var nonzeroWeights: Int { weights - zeroWeights }
    public var weightSparsity: Double? { weights > 0 ? Double(zeroWeights) / Double(weights) : nil }
}

extension Sequential {
    /// What block `index` receives for `x`: the input, or the block before's output.
    public func input(toBlock index: Int, for x: Tensor) -> Tensor {
        var y = x
        for block in blocks.prefix(index) { for layer in block.layers { y = layer.forward(y, training: false) } }
        return y
    }

    /// Weight sparsity per block and in total and, with `inputs`, activation
    /// sparsity on their first `samples` (all when nil), `batchSize` samples
    /// at a time (through `blockOutputs`), of the blocks that compute:
    /// a block that passes its input on (`passesInputOn`) is not counted, as
    /// its zeros are the block before's (after `flatten`, an image's blank
    /// pixels would count as zeros; `dropout` would count its input's zeros
    /// again). The counts are whole numbers: any batch size gives the same figures.
    public func sparsity(on inputs: Tensor? = nil, samples: Int? = nil, batchSize: Int = Sequential.inferenceBatch) -> ModelSparsity {
        var activity: [UnitActivity]?
        if let inputs {
            var counts = blocks.map { UnitActivity(units: $0.outputShape.reduce(1, *)) }
            inputs.forEachBatch(first: samples ?? inputs.batch, size: batchSize) { x in
                for (i, output) in blockOutputs(x).enumerated() where !blocks[i].passesInputOn { counts[i].count(output) }
            }
            activity = counts
        }
        return ModelSparsity(blocks: blocks.enumerated().map { i, block in
            // A shared parameter counts once, in the block that stores it;
            // state a layer keeps for itself (batchnorm's moving figures) is no weight.
            let weights = block.ownParameters.filter(\.trainable)
            var b = BlockSparsity(name: block.name, weights: weights.reduce(0) { $0 + $1.value.count },
                                  zeroWeights: weights.reduce(0) { $0 + $1.zeroCount })
            if let activity, !block.passesInputOn { b.measure(activity[i]) }
            return b
        })
    }

    /// What `show activations` measures of block `index` on the first
    /// `samples` of `inputs`, `batchSize` samples at a time: a recurrent
    /// layer's steps (`ReportFacts.trace`, the hidden states of the first
    /// `kept` samples kept), or else the block's outputs, each batch's handed
    /// to `body` in sample order (then let go), and how often each unit was nonzero.
    public func activations(ofBlock index: Int, on inputs: Tensor, samples: Int, batchSize: Int, keepingStatesOf kept: Int,
                            _ body: (_ outputs: Tensor) -> Void) -> MeasuredActivations {
        let block = blocks[index]
        var trace: RecurrentTrace?, traces = true
        var activity = UnitActivity(units: block.outputShape.reduce(1, *))
        inputs.forEachBatch(first: samples, size: batchSize) { x in
            let input = input(toBlock: index, for: x)
            if traces, let next = block.main.trace(input, after: trace, keepingStatesOf: kept) {
                trace = next
                return
            }
            traces = false
            var output = input
            for layer in block.layers { output = layer.forward(output, training: false) }
            activity.count(output)
            body(output)
        }
        return trace.map { .steps($0) } ?? .outputs(activity)
    }

    /// Weights and biases that are not exactly zero.
    public var nonzeroParameters: Int { sparsity().total.nonzeroWeights }

    /// The share of the weights and biases that are exactly zero (0 for a
    /// model without any).
    public var weightSparsity: Double { sparsity().total.weightSparsity ?? 0 }

    /// Weights and biases their masks let train: what survives pruning.
    public var trainableParameters: Int {
        parameters.reduce(0) { $0 + $1.value.count - ($1.mask?.reduce(0) { $0 + ($1 == 0 ? 1 : 0) } ?? 0) }
    }
}

/// A model's sparsity as `show sparsity`, `prune` and `compare` report it:
/// per block, in total, and over the activations measured.
public struct ModelSparsity: Sendable, Equatable {
    public let blocks: [BlockSparsity]
    /// All blocks' weights together, named `total` (no activations).
    public let total: BlockSparsity
    /// The share of zero outputs over every measured block, each weighted
    /// by its outputs per sample; nil when none was measured.
    public let zeroActivations: Double?

    public init(blocks: [BlockSparsity]) {
        self.blocks = blocks
        total = BlockSparsity(name: "total", weights: blocks.reduce(0) { $0 + $1.weights },
                              zeroWeights: blocks.reduce(0) { $0 + $1.zeroWeights })
        let measured = blocks.compactMap { b in b.zeroActivations.map { (share: $0, units: Double(b.units)) } }
        let outputs = measured.reduce(0.0) { $0 + $1.units }
        zeroActivations = outputs > 0 ? measured.reduce(0.0) { $0 + $1.share * $1.units } / outputs : nil
    }
}

/// How often each unit of a block's output (each value of a sample's
/// output) is nonzero, counted a batch at a time: whole numbers, so any
/// batching gives the figures of one pass.
public struct UnitActivity: Sendable, Equatable {
    /// The samples counted so far.
    public private(set) var samples = 0
    /// Per unit, the samples on which it was nonzero.
    public private(set) var active: [Int]

    public init(units: Int) { active = [Int](repeating: 0, count: units) }

    public var units: Int { active.count }
    /// Nonzero outputs over every sample counted.
    public var nonzeros: Int { active.reduce(0, +) }
    /// Units zero for every sample: a code layer's dead units.
    public var deadUnits: Int { active.filter { $0 == 0 }.count }
    /// Units nonzero for every sample.
    public var alwaysOnUnits: Int { active.filter { $0 == samples }.count }

    /// Counts the nonzeros of `output` (`[samples, …]`, a sample's values the units).
    public mutating func count(_ output: Tensor) {
        let (n, u) = (output.batch, output.sampleSize)
        precondition(u == units, "UnitActivity: \(u) values a sample for \(units) units")
        output.storage.withUnsafeBufferPointer { v in
            active.withUnsafeMutableBufferPointer { a in
                for s in 0..<n { for j in 0..<u where v[s * u + j] != 0 { a[j] += 1 } }
            }
        }
        samples += n
    }

    /// The share of the outputs counted that are exactly zero.
    public var zeroShare: Double { Double(samples * units - nonzeros) / Double(max(1, samples * units)) }
}

/// What `show activations` measured of a block: a recurrent layer's steps,
/// or how often each of the block's units was nonzero.
public enum MeasuredActivations: Sendable, Equatable {
    case steps(RecurrentTrace)
    case outputs(UnitActivity)
}

/// A block's outputs on some samples, for `show activations`.
public struct BlockActivations: Sendable, Equatable {
    /// `[samples, …]`.
    public let outputs: Tensor
    /// The share of the outputs that are exactly zero.
    public let zeroShare: Double
    /// Units (values of a sample's output) zero for every sample, and
    /// nonzero for every one: a code layer's dead and always-on units.
    public let deadUnits: Int
    public let alwaysOnUnits: Int
}

extension Tensor {
    /// Runs `body` on the first `count` samples, `size` at a time in order;
    /// each batch is a copy of its samples, but for one batch of all of them.
    public func forEachBatch(first count: Int, size: Int, _ body: (Tensor) -> Void) {
        let count = min(count, batch), size = max(1, size)
        var start = 0
        while start < count {
            let end = min(count, start + size)
            body(start == 0 && end == batch ? self : gathering(samples: Array(start..<end)))
            start = end
        }
    }
}

extension Block {
    /// Whether the block only rearranges its input (`flatten`, `reshape`).
    public var onlyReshapes: Bool { !layers.isEmpty && layers.allSatisfy { $0.kind == "flatten" || $0.kind == "reshape" } }

    /// Whether the block's output when predicting is its input, at most
    /// rearranged: `flatten`, `reshape`, and `dropout` and `activity`, which
    /// act only in training (zeroing units, adding a penalty).
    public var passesInputOn: Bool { !layers.isEmpty && layers.allSatisfy { Block.passingKinds.contains($0.kind) } }

    static let passingKinds: Set<String> = ["flatten", "reshape", "dropout", "activity"]

    /// Its outputs for `input` (what the block receives), without training.
    public func activations(on input: Tensor) -> BlockActivations {
        var output = input
        for layer in layers { output = layer.forward(output, training: false) }
        var activity = UnitActivity(units: output.sampleSize)
        activity.count(output)
        return BlockActivations(outputs: output, zeroShare: activity.zeroShare, deadUnits: activity.deadUnits,
                                alwaysOnUnits: activity.alwaysOnUnits)
    }
}
