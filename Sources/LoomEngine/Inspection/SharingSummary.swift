/// What parameter sharing saves, block by block, as `summary` and `compare`
/// report it: the weights a block stores, what the same connections would
/// store without sharing (a locally connected layer; a recurrent layer
/// unrolled, a copy of its weights per step), what a fully connected layer
/// between the same input and output would store, and the multiply-adds.
public struct SharingRow: Sendable, Equatable {
    public let name: String
    public let outputShape: [Int]
    public let stored: Int
    public let unshared: Int
    /// A fully connected layer between the same shapes (with its biases);
    /// 0 for a block without connections (pooling, flatten).
    public let dense: Int
    public let multiplyAdds: Int
    /// What a full conv2d between the same shapes would cost, for a block
    /// that convolves channels in groups; nil otherwise.
    public var fullConvolution: FullConvolutionCost? = nil

    /// unshared ÷ stored; nil for a block that stores nothing.
    public var sharing: Double? { stored > 0 ? Double(unshared) / Double(stored) : nil }
}

/// A full conv2d's weights and multiply-adds per sample: what grouping the
/// channels (`groups`, `depthwise`, `separable`) saves is measured against it.
public struct FullConvolutionCost: Sendable, Equatable {
    public let parameters: Int
    public let multiplyAdds: Int
    public init(parameters: Int, multiplyAdds: Int) {
        self.parameters = parameters
        self.multiplyAdds = multiplyAdds
    }
}

public struct SharingSummary: Sendable, Equatable {
    public let blocks: [SharingRow]
    /// Every block's figures added up, named `total`.
    public let total: SharingRow
    /// Whether a block is unrolled over steps (a recurrent layer), which
    /// the note under the table then explains.
    public let unrollsOverSteps: Bool
}

extension Sequential {
    /// The sharing summary of the model's blocks (a shared parameter
    /// counted in the block that stores it).
    public var sharingSummary: SharingSummary {
        var input = inputShape
        var rows: [SharingRow] = []
        for block in blocks {
            let outputs = block.outputShape.reduce(1, *)
            let unshared = block.unsharedParameters
            // A layer with connections (even on another layer's weights) against a fully connected one.
            rows.append(SharingRow(name: block.name, outputShape: block.outputShape, stored: block.parameterCount,
                                   unshared: unshared, dense: unshared > 0 ? input.reduce(1, *) * outputs + outputs : 0,
                                   multiplyAdds: block.multiplyAdds, fullConvolution: block.main.fullConvolution))
            input = block.outputShape
        }
        let total = SharingRow(name: "total", outputShape: [], stored: rows.reduce(0) { $0 + $1.stored },
                               unshared: rows.reduce(0) { $0 + $1.unshared }, dense: rows.reduce(0) { $0 + $1.dense },
                               multiplyAdds: rows.reduce(0) { $0 + $1.multiplyAdds })
        return SharingSummary(blocks: rows, total: total, unrollsOverSteps: layers.contains { $0.unrollsOverSteps })
    }
}
