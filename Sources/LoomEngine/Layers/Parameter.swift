/// A trainable array, its gradient, and optionally a mask.
///
/// The mask holds 0 where a weight is pruned or fixed-sparse and 1 where it
/// trains: masked weights, their gradients and their optimizer moments stay
/// zero through training. Clusters, when set, make the kept weights a few
/// shared values (see `WeightClusters`). A parameter and its replicas (see
/// `replica`) share one mask, one set of clusters and one version.
public final class Parameter {
    public let name: String
    /// False for state a layer updates itself (batch normalisation's moving
    /// mean and variance): saved and loaded with the weights, never stepped
    /// by the optimizer nor pruned.
    public let trainable: Bool
    public var value: Tensor
    public var gradient: Tensor
    private let shared: Shared

    /// What a parameter and its replicas hold in common.
    private final class Shared {
        var mask: [Float]?
        var blockPattern: BlockPattern?
        var clusters: WeightClusters?
        var version = 0
        var trainsSparsely = false
        var sparseFrom = SparsePattern.threshold
        var pattern: SparsePattern?
        var values: SparseValues?
        var denseGradientRequested = false
    }

    /// The gradient at `sparsePattern`'s weights, in its order, while the
    /// weight trains sparsely (then `gradient` is written only in steps that
    /// request it, see `denseGradientRequested`). One per replica.
    public var sparseGradient: [Float] = []

    public init(name: String, value: Tensor, trainable: Bool = true) {
        self.name = name
        self.trainable = trainable
        self.value = value
        self.gradient = Tensor(zeros: value.shape)
        shared = Shared()
    }

    private init(replicating other: Parameter) {
        name = other.name
        trainable = other.trainable
        value = other.value
        gradient = Tensor(zeros: other.value.shape)
        shared = other.shared
    }

    /// A parameter sharing this one's weights (until either is written), mask
    /// and version, with a gradient of its own: for a model's replicas.
    public func replica() -> Parameter { Parameter(replicating: self) }

    /// The mask, one value per weight; nil when every weight trains.
    public var mask: [Float]? { shared.mask }

    /// The N:M pattern the mask keeps (`prune M 2:4`), so rewiring moves
    /// weights within their blocks; nil for any other mask.
    public var blockPattern: BlockPattern? { shared.blockPattern }

    /// Sets (or, with nil, lifts) the mask and zeroes the masked weights;
    /// `blockPattern` says which N:M pattern the mask keeps, if any.
    /// Throws when the mask's length is not the weights'.
    public func setMask(_ mask: [Float]?, blockPattern: BlockPattern? = nil) throws(ShapeError) {
        if let mask, mask.count != value.count {
            throw ShapeError("a mask of \(mask.count) values for \(name), which has \(value.count) weights")
        }
        shared.mask = mask
        shared.blockPattern = mask == nil ? nil : blockPattern
        updatePattern()
        applyMask()
    }

    /// The shared values and each weight's centroid; nil when not clustered.
    public var clusters: WeightClusters? { shared.clusters }

    /// Sets (or, with nil, lifts) the clusters and writes each kept weight's
    /// centroid into the weights. Throws when the assignment's length is not
    /// the weights'.
    public func setClusters(_ clusters: WeightClusters?) throws(ShapeError) {
        if let clusters, clusters.assignment.count != value.count {
            throw ShapeError("clusters for \(clusters.assignment.count) weights on \(name), which has \(value.count)")
        }
        shared.clusters = clusters
        applyMask()
    }

    /// Whether the layer using this weight can train it through a
    /// `SparsePattern` (a dense layer's own kernel, never used transposed,
    /// or a full conv2d's, read as `[kh·kw·C, filters]`): it then does once
    /// the mask holds `sparseFrom` of zeros. Off by default;
    /// setting it off again trains it densely.
    public var trainsSparsely: Bool {
        get { shared.trainsSparsely }
        set {
            shared.trainsSparsely = newValue
            updatePattern()
        }
    }

    /// The share of masked weights from which it trains sparsely
    /// (`SparsePattern.threshold` unless its layer measured another).
    public var sparseFrom: Double {
        get { shared.sparseFrom }
        set {
            shared.sparseFrom = newValue
            updatePattern()
        }
    }

    /// The unmasked places the weight trains at, when it trains sparsely.
    public var sparsePattern: SparsePattern? { shared.pattern }

    /// Whether this step's backward writes the dense `gradient` too (every
    /// weight's, masked or not): rewiring reads it. Shared with the replicas.
    public var denseGradientRequested: Bool {
        get { shared.denseGradientRequested }
        set { shared.denseGradientRequested = newValue }
    }

    /// Whether a step writes `gradient`: always unless the weight trains
    /// sparsely (a clustered weight's centroids read every member's).
    var keepsDenseGradient: Bool { shared.pattern == nil || shared.denseGradientRequested || shared.clusters != nil }

    private func updatePattern() {
        shared.values = nil
        // The last axis is the outputs and the others the inputs: `[inputs, units]`, `[kh, kw, C, filters]`.
        guard shared.trainsSparsely, let mask = shared.mask, value.shape.count >= 2, let outputs = value.shape.last,
              value.count > 0 else {
            shared.pattern = nil
            return
        }
        let zeros = mask.reduce(0) { $0 + ($1 == 0 ? 1 : 0) }
        let sparse = Double(zeros) / Double(mask.count) >= shared.sparseFrom
        shared.pattern = sparse ? SparsePattern(mask: mask, inputs: value.count / outputs, outputs: outputs) : nil
        sparseGradient = []
    }

    /// The unmasked values of this version of the weights, gathered once and
    /// read by every replica: call before the replicas run in parallel.
    public func prepareSparseValues() {
        guard let pattern = shared.pattern, shared.values?.version != shared.version else { return }
        shared.values = SparseValues(pattern, weights: value.storage, version: shared.version)
    }

    /// The values `prepareSparseValues` gathered for the current version.
    var sparseValues: SparseValues? {
        guard let values = shared.values, values.version == shared.version, values.pattern === shared.pattern else { return nil }
        return values
    }

    /// Counts changes to the weights: bumped by every optimizer step, mask and
    /// load, so a copy derived from them (a sparse copy for inference) knows
    /// when it is stale.
    public var version: Int { shared.version }

    /// Records that the weights were written: whoever writes `value` calls
    /// it (the optimizer, masks, `load` and `rewind` do), so copies made from
    /// the weights are remade. (An observer on `value` would copy the whole
    /// array on every in-place update.)
    public func markChanged() { shared.version &+= 1 }

    /// Zeroes what this step's backward adds into: the dense gradient, the sparse one, or both.
    public func zeroGradient() {
        if let pattern = shared.pattern {
            if sparseGradient.count != pattern.count {
                sparseGradient = [Float](repeating: 0, count: pattern.count)
            } else {
                sparseGradient.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
            }
        }
        if keepsDenseGradient { gradient.storage.withUnsafeMutableBufferPointer { $0.update(repeating: 0) } }
    }

    /// Zeroes the masked weights and sets the others to their centroids when
    /// clustered (after an update, or when a mask or clusters are set).
    public func applyMask() {
        markChanged()
        if let clusters {
            let mask = self.mask
            value.storage.withUnsafeMutableBufferPointer { clusters.write(into: $0, mask: mask) }
            return
        }
        guard mask != nil else { return }
        value.storage.withUnsafeMutableBufferPointer { applyMask(to: $0) }
    }

    /// Zeroes `values` (a gradient, an optimizer moment: one per weight)
    /// where the mask does.
    func applyMask(to values: UnsafeMutableBufferPointer<Float>) {
        guard let mask else { return }
        // Branch-free, and split across threads for large weights.
        mask.withUnsafeBufferPointer { m in
            let (from, to) = (m.baseAddress!, values.baseAddress!)
            Parallel.chunks(values.count, minimumChunk: 65536) { r in
                Vector.keep(where: from + r.lowerBound, in: to + r.lowerBound, count: r.count)
            }
        }
    }

    /// Weights that are exactly zero.
    public var zeroCount: Int { value.zeroCount }

    /// Whether this is a kernel (trainable, of rank 2 or more), not a bias or
    /// a scale: what pruning, `sparse` and `l2` act on.
    public var isKernel: Bool { trainable && value.shape.count >= 2 }

    /// Whether `l2` decays it: a kernel and not a bias, which a locally
    /// connected layer (one per position) or a GRU (two rows) stores in 2-D.
    public var isDecayable: Bool { isKernel && !name.hasSuffix("bias") }
}
