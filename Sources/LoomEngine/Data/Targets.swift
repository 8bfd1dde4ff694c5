/// What each sample of a data set is to be mapped to.
public enum Targets: Sendable {
    /// Class numbers from 0 below `count` (classification).
    case classes([Int], count: Int)
    /// Real-valued targets, `[samples, …target shape]` (regression: the next
    /// value of a sequence, a reconstruction).
    case values(Tensor)
    /// The inputs themselves: each sample is its own target (an
    /// autoencoder's reconstruction, Keras's `fit(x, x)`), kept once.
    case inputs
    /// None: unlabelled samples (image patches for dictionary learning).
    case none

    /// Samples with a target of their own; nil for `inputs` and `none`.
    var sampleCount: Int? {
        switch self {
        case .classes(let labels, _): return labels.count
        case .values(let t): return t.batch
        case .inputs, .none: return nil
        }
    }

    /// The targets of samples `indices`, in that order; `inputs` holds those
    /// samples' inputs, which are the targets of a reconstruction (no copy).
    public func gathering(_ indices: [Int], inputs: Tensor) -> BatchTargets {
        switch self {
        case .classes(let labels, _): return .classes(indices.map { labels[$0] })
        case .values(let t): return .values(t.gathering(samples: indices))
        case .inputs: return .values(inputs)
        case .none: return .none
        }
    }

    /// A short phrase for descriptions: `10 classes`, `targets of 1`, `no targets`.
    public var phrase: String {
        switch self {
        case .classes(_, let count): return "\(count) classes"
        case .values(let t): return "targets of \(Shape.text(Array(t.shape.dropFirst())))"
        case .inputs: return "its inputs as targets"
        case .none: return "no targets"
        }
    }
}

/// The targets of one batch or shard, gathered like its inputs.
public enum BatchTargets: Sendable {
    case classes([Int])
    case values(Tensor)
    case none

    public var count: Int {
        switch self {
        case .classes(let labels): return labels.count
        case .values(let t): return t.batch
        case .none: return 0
        }
    }
}
