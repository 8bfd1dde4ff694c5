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
    /// The earlier block whose parameters this one uses, and how; nil for a
    /// block on parameters of its own.
    public var borrows: Borrowing? = nil

    /// A block on another's parameters: all of them (`share`), or its
    /// kernel transposed beside a bias of its own (`tied`).
    public enum Borrowing: Sendable, Equatable {
        case shares(String)
        case tied(String)
    }

    /// What the block's sharing is beyond these counts (see `SharingForm`).
    public var form: SharingForm? = nil
    /// What a full conv2d between the same shapes would cost, for a block
    /// that convolves channels in groups; nil otherwise.
    public var fullConvolution: FullConvolutionCost? = nil

    /// unshared ÷ stored; nil for a block that stores nothing.
    public var sharing: Double? { stored > 0 ? Double(unshared) / Double(stored) : nil }
}

/// What a block's sharing is, beyond its stored and unshared counts.
public enum SharingForm: Sendable, Equatable {
    /// A locally connected layer, a convolution's unshared twin: the
    /// convolution of the same shape stores `convolution` weights and biases,
    /// one kernel where this stores one per each of `positions`.
    case unsharedTwin(convolution: Int, positions: Int)
    /// HashedNets: a `virtual` weight matrix drawn from `real` weights.
    case hashed(virtual: Int, real: Int)
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
                                   multiplyAdds: block.multiplyAdds, borrows: block.borrowing,
                                   form: block.main.sharingForm,
                                   fullConvolution: block.main.fullConvolution))
            input = block.outputShape
        }
        let total = SharingRow(name: "total", outputShape: [], stored: rows.reduce(0) { $0 + $1.stored },
                               unshared: rows.reduce(0) { $0 + $1.unshared }, dense: rows.reduce(0) { $0 + $1.dense },
                               multiplyAdds: rows.reduce(0) { $0 + $1.multiplyAdds })
        return SharingSummary(blocks: rows, total: total, unrollsOverSteps: layers.contains { $0.unrollsOverSteps })
    }
}

extension Block {
    /// Whose parameters the block uses (`share`, `tied`), nil for its own.
    public var borrowing: SharingRow.Borrowing? {
        if let lender = sharedFrom { return .shares(lender) }
        if let lender = (spec as? DenseSpec)?.tied { return .tied(lender) }
        return nil
    }
}
