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

    /// The activity of `output` (`[samples, …]`).
    mutating func measure(_ output: Tensor) {
        let (n, u) = (output.batch, output.sampleSize)
        var active = [Int](repeating: 0, count: u)
        output.storage.withUnsafeBufferPointer { v in
            for s in 0..<n { for j in 0..<u where v[s * u + j] != 0 { active[j] += 1 } }
        }
        let total = active.reduce(0, +)
        units = u
        zeroActivations = 1 - Double(total) / Double(max(1, n * u))
        meanActive = Double(total) / Double(max(1, n))
        deadUnits = active.filter { $0 == 0 }.count
        alwaysOnUnits = active.filter { $0 == n }.count
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

    /// Weight sparsity per block and, with `inputs`, activation sparsity on
    /// them (through `blockOutputs`).
    public func sparsity(on inputs: Tensor? = nil) -> [BlockSparsity] {
        let outputs = inputs.map(blockOutputs)
        return blocks.enumerated().map { i, block in
            // A shared parameter counts once, in the block that stores it.
            var b = BlockSparsity(name: block.name, weights: block.parameterCount,
                                  zeroWeights: block.ownParameters.reduce(0) { $0 + $1.zeroCount })
            if let outputs { b.measure(outputs[i]) }
            return b
        }
    }
}
