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

    public init(name: String, weights: Int, zeroWeights: Int, zeroActivations: Double? = nil) {
        self.name = name
        self.weights = weights
        self.zeroWeights = zeroWeights
        self.zeroActivations = zeroActivations
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
            BlockSparsity(name: block.name, weights: block.parameterCount,
                          zeroWeights: block.parameters.reduce(0) { $0 + $1.zeroCount },
                          zeroActivations: outputs.map { Double($0[i].zeroCount) / Double(max(1, $0[i].count)) })
        }
    }
}
