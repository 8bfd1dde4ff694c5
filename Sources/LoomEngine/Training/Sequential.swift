import LoomCore

/// A layer as the user wrote it: one line of the model block, which may be
/// several engine layers (a dense layer and its activation).
public struct Block {
    public let name: String
    public let spec: any LayerSpec
    public let layers: [Layer]
    /// The block whose parameters this one uses as its own (`share`), nil
    /// for a block that makes its own.
    public let sharedFrom: String?
    /// The parameters the block stores: those of its layers that no earlier
    /// block uses. A block that shares stores none, a tied one its bias.
    public let ownParameters: [Parameter]
    public var main: Layer { layers[0] }
    public var outputShape: [Int] { layers.last!.outputShape }
    /// Every parameter the block's layers use, its own and those it takes from earlier blocks.
    public var parameters: [Parameter] { layers.flatMap(\.parameters) }
    /// The weights the block stores (see `ownParameters`).
    public var parameterCount: Int { ownParameters.reduce(0) { $0 + $1.value.count } }
    /// What the block's connections would store without sharing.
    public var unsharedParameters: Int { layers.reduce(0) { $0 + $1.unsharedParameters } }
    public var multiplyAdds: Int { layers.reduce(0) { $0 + $1.multiplyAdds } }
}

/// A sequential model: blocks applied in order to batch-first tensors.
///
/// The model keeps its parameters in one table, by identity: a layer may use
/// an earlier layer's parameter (`share`, `tied`), and the model still holds,
/// updates, masks, counts and saves it once.
public final class Sequential {
    public let name: String
    public let inputShape: [Int]
    public private(set) var blocks: [Block] = []
    /// Every parameter once, in the order the blocks first use them.
    public private(set) var parameters: [Parameter] = []
    private var tabled: Set<ObjectIdentifier> = []
    public var random: RandomGenerator
    private var counters: [String: Int] = [:]

    /// Memory per weight: the weight, its gradient and the optimizer's two moments.
    public static let bytesPerWeight = 16

    /// The most weights the model may hold, at `bytesPerWeight` each; each
    /// line's `LayerSpec.heldBytes` is checked against it before it allocates.
    public var maxParameters = Int.max

    public init(name: String, inputShape: [Int], random: RandomGenerator) throws(ShapeError) {
        guard !inputShape.isEmpty, inputShape.allSatisfy({ $0 > 0 }) else {
            throw ShapeError("the input shape must have positive dimensions, not \(Shape.text(inputShape))")
        }
        guard let size = Shape.count(inputShape), size <= 1 << 32 else {
            throw ShapeError("an input of \(Shape.text(inputShape)) is too large")
        }
        self.name = name
        self.inputShape = inputShape
        self.random = random
    }

    private init(replicating other: Sequential) {
        name = other.name
        inputShape = other.inputShape
        random = other.random
        maxParameters = other.maxParameters
        parameters = other.parameters.map { $0.replica() }
        tabled = Set(parameters.map(ObjectIdentifier.init))
        // Each parameter replicated once: layers that share one share its replica.
        let replicas = Dictionary(uniqueKeysWithValues: zip(other.parameters.map(ObjectIdentifier.init), parameters))
        func replicated(_ ps: [Parameter]) -> [Parameter] { ps.map { replicas[ObjectIdentifier($0)]! } }
        blocks = other.blocks.map { block in
            Block(name: block.name, spec: block.spec, layers: block.layers.map { $0.replica(on: replicated($0.parameters)) },
                  sharedFrom: block.sharedFrom, ownParameters: replicated(block.ownParameters))
        }
    }

    /// The model with every layer replicated (see `Layer.replica(on:)`) and
    /// every parameter replicated once (see `Parameter.replica`).
    public func replica() -> Sequential { Sequential(replicating: self) }

    public var outputShape: [Int] { blocks.last?.outputShape ?? inputShape }
    public var layers: [Layer] { blocks.flatMap(\.layers) }
    /// The weights the model stores, each shared parameter once.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }

    /// The block named `name` (`conv1`, `dense2`, or a name given with `as`).
    public func block(named name: String) -> Block? { blocks.first { $0.name == name } }

    /// Adds a layer on the current output; fails, naming the problem, when
    /// the layer does not fit it. `name` overrides kind-and-position naming.
    /// With `sharing`, the layer uses the parameters of the earlier block so
    /// named (`share`): a layer of the same kind whose parameters have the
    /// same shapes.
    public func add(_ spec: some LayerSpec, name given: String? = nil, sharing lenderName: String? = nil) throws(ShapeError) {
        let prefix = spec.blockPrefix
        counters[prefix, default: 0] += 1
        let name = given ?? "\(prefix)\(counters[prefix]!)"
        if blocks.contains(where: { $0.name == name }) { throw ShapeError("a layer named `\(name)` already exists") }
        let needed = try spec.parameterCount(input: outputShape), bytes = try spec.heldBytes(input: outputShape)
        guard bytes / Sequential.bytesPerWeight <= maxParameters else {
            throw ShapeError("\(name) would hold \(bytes) bytes, more than the memory limit allows "
                             + "(\(MemoryAccount.product(maxParameters, Sequential.bytesPerWeight)))")
        }
        var layers: [Layer]
        if let lenderName {
            let lender = try blocks.lender(lenderName, of: name, how: "shares the parameters of")
            let lent = lender.parameters.reduce(0) { $0 + $1.value.count }
            // Checked before building, so a line far larger than its lender allocates nothing.
            guard needed <= lent else {
                throw ShapeError("\(name) cannot share \(lender.name)'s parameters: it needs \(needed) weights, "
                                 + "\(lender.name) has \(lent)")
            }
            layers = try spec.build(name: name, input: outputShape, earlier: blocks, random: &random)
            layers = try share(lender, with: layers, of: name)
        } else {
            layers = try spec.build(name: name, input: outputShape, earlier: blocks, random: &random)
        }
        var own: [Parameter] = [], seen = tabled
        for p in layers.flatMap(\.parameters) where seen.insert(ObjectIdentifier(p)).inserted { own.append(p) }
        try checkDecay(spec.l2, of: name, using: layers, own: own)
        tabled = seen
        parameters += own
        blocks.append(Block(name: name, spec: spec, layers: layers, sharedFrom: lenderName, ownParameters: own))
        planned = nil
    }

    /// Each kernel `l2` decays, once, with its λ: those of the blocks that
    /// ask for it and store the kernel (see `WeightDecay`).
    public var decayedKernels: [(weight: Parameter, lambda: Float)] {
        blocks.flatMap { block in
            block.spec.l2 > 0 ? block.ownParameters.filter(\.isDecayable).map { ($0, block.spec.l2) } : []
        }
    }

    /// Refuses a λ below 0, and `l2` on block `name` where it uses a kernel
    /// an earlier block stores (`share`, `tied`) unless it repeats that
    /// block's λ: the kernel is decayed once, as the block storing it says.
    private func checkDecay(_ lambda: Float, of name: String, using layers: [Layer], own: [Parameter]) throws(ShapeError) {
        guard lambda != 0 else { return }
        guard lambda > 0, lambda.isFinite else { throw ShapeError("l2 takes a λ of 0 or more, not \(lambda)") }
        let owned = Set(own.map(ObjectIdentifier.init))
        for p in layers.flatMap(\.parameters) where p.isDecayable && !owned.contains(ObjectIdentifier(p)) {
            guard let lender = blocks.first(where: { $0.ownParameters.contains { $0 === p } }), lender.spec.l2 != lambda else { continue }
            throw ShapeError("\(name) uses \(lender.name)'s kernel, which `l2` on \(lender.name) decays (λ \(lender.spec.l2)): "
                             + "give `l2` there; here it may only repeat that λ")
        }
    }

    /// `layers`, just built for block `name`, on `lender`'s parameters in
    /// place of their own; throws, naming both blocks, unless they are the
    /// same kind of layer with parameters of the same shapes.
    private func share(_ lender: Block, with layers: [Layer], of name: String) throws(ShapeError) -> [Layer] {
        let lent = lender.parameters, own = layers.flatMap(\.parameters)
        guard !lent.isEmpty else { throw ShapeError("\(name) cannot share \(lender.name)'s parameters: it has none") }
        guard layers[0].kind == lender.main.kind else {
            throw ShapeError("\(name) cannot share \(lender.name)'s parameters: \(name) is \(layers[0].kind), "
                             + "\(lender.name) is \(lender.main.kind)")
        }
        guard lender.ownParameters.isEmpty || lender.ownParameters.count == lent.count else {
            throw ShapeError("\(name) cannot share \(lender.name)'s parameters: \(lender.name) uses a kernel of another layer's "
                             + "(`tied`); tie \(name) to that layer instead")
        }
        if own.contains(where: { tabled.contains(ObjectIdentifier($0)) }) {
            throw ShapeError("\(name) already uses a parameter of another layer, so it cannot also share \(lender.name)'s")
        }
        for (mine, theirs) in zip(own, lent) where mine.value.shape != theirs.value.shape || mine.name != theirs.name {
            throw ShapeError("\(name) cannot share \(lender.name)'s parameters: its \(mine.name) is "
                             + "\(Shape.text(mine.value.shape)), \(lender.name)'s \(theirs.name) is \(Shape.text(theirs.value.shape))")
        }
        guard own.count == lent.count else {
            throw ShapeError("\(name) cannot share \(lender.name)'s parameters: it has \(own.count), \(lender.name) has \(lent.count)")
        }
        if own.contains(where: { $0.mask != nil }) {
            throw ShapeError("\(name) uses \(lender.name)'s weights, and with them their masks: give `sparse` on \(lender.name)")
        }
        var rest = lent[...]
        return layers.map { layer in
            let count = layer.parameters.count
            guard count > 0 else { return layer }
            defer { rest = rest.dropFirst(count) }
            return layer.replica(on: Array(rest.prefix(count)))
        }
    }

    /// The layers as forward and backward run them. Where relu feeds max
    /// pooling, the pooling runs first and relu after it, on a quarter of the
    /// values: the two commute (the largest of rectified values is the
    /// rectified largest value, and its gradient reaches the same input), so
    /// outputs and gradients are those of the model as written.
    var plan: [Layer] {
        if let planned { return planned }
        var steps: [Layer] = []
        for layer in layers {
            if let pool = layer as? Pooling2D, pool.mode == .max,
               let relu = steps.last as? Activation, relu.function == .relu {
                steps[steps.count - 1] = pool
                steps.append(Activation(name: relu.name, function: .relu, shape: pool.outputShape))
            } else {
                steps.append(layer)
            }
        }
        planned = steps
        return steps
    }
    private var planned: [Layer]?

    /// Whether the model ends in softmax (so cross-entropy can be fused with it).
    public var endsInSoftmax: Bool { (layers.last as? Activation)?.function == .softmax }

    /// Whether the model ends in sigmoid, perhaps reshaped after it (`dense
    /// 784 sigmoid` then `reshape 28x28x1`): its outputs are in (0, 1), and
    /// binary cross-entropy can be fused with it.
    public var endsInSigmoid: Bool {
        guard let i = fusedActivationIndex else { return false }
        return (plan[i] as? Activation)?.function == .sigmoid
    }

    /// The step of `plan` a fused loss's gradient skips: a softmax that is
    /// the last layer, or a sigmoid with only reshaping layers after it
    /// (element-wise, so their order does not matter). nil otherwise.
    private var fusedActivationIndex: Int? {
        let all = plan
        guard let i = all.lastIndex(where: { !($0 is ReshapingLayer) }), let activation = all[i] as? Activation else {
            return nil
        }
        switch activation.function {
        case .softmax: return i == all.count - 1 ? i : nil
        case .sigmoid: return i
        default: return nil
        }
    }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        var y = x
        for layer in plan { y = layer.forward(y, training: training) }
        return y
    }

    /// The training forward pass of one step (or one shard of it).
    public func forward(_ x: Tensor, step: StepContext) -> Tensor {
        var y = x
        for layer in plan { y = layer.forward(y, step: step) }
        return y
    }

    /// Back-propagates `gradient` from the output; with `fromLogits`, the
    /// gradient is already with respect to the final softmax's or sigmoid's
    /// input (in the output's shape: reshapes after a sigmoid still run).
    public func backward(_ gradient: Tensor, fromLogits: Bool = false) {
        var g = gradient
        let all = plan
        let skipped = fromLogits ? fusedActivationIndex : nil
        for i in all.indices.reversed() where i != skipped {
            if i == 0 { all[0].addParameterGradients(g) } else { g = all[i].backward(g) }
        }
    }

    /// Each block's output for `x`, without training: the layers as written
    /// (not the plan, which may reorder a block's activation past the next
    /// block), so every block's own output is there to measure.
    public func blockOutputs(_ x: Tensor) -> [Tensor] {
        var y = x
        return blocks.map { block in
            for layer in block.layers { y = layer.forward(y, training: false) }
            return y
        }
    }

    /// Outputs for many samples, `batchSize` at a time, without training.
    public func predict(_ x: Tensor, batchSize: Int = Sequential.inferenceBatch) -> Tensor {
        predict(x, batchSize: batchSize, shouldStop: { false })!
    }

    /// The outputs for `x`, a batch at a time; nil when `shouldStop` (asked
    /// between batches) said stop. Under several ranks each computes a run
    /// of whole batches (rank r the r-th of `ranks.size` runs) and the ranks
    /// gather the outputs: each batch is computed as one process would.
    public func predict(_ x: Tensor, batchSize: Int = Sequential.inferenceBatch, shouldStop: () -> Bool,
                        ranks: any Collective = Ranks.current) -> Tensor? {
        let n = x.batch, sampleSize = outputShape.reduce(1, *)
        let batches = (n + batchSize - 1) / batchSize
        // The first sample of each rank's run, and the end.
        let starts = (0...ranks.size).map { min(n, batchSize * (batches * $0 / ranks.size)) }
        var out: [Float] = []
        out.reserveCapacity((starts[ranks.rank + 1] - starts[ranks.rank]) * sampleSize)  // this rank's run (`ownRunBytes`)
        var start = starts[ranks.rank]
        while start < starts[ranks.rank + 1] {
            if shouldStop() { return nil }
            let end = min(n, start + batchSize)
            let batch = start == 0 && end == n ? x : x.gathering(samples: Array(start..<end))  // a copy only of a part
            out += forward(batch, training: false).storage
            start += batchSize
        }
        guard ranks.size > 1 else { return Tensor(shape: [n] + outputShape, storage: out) }
        let counts = (0..<ranks.size).map { (starts[$0 + 1] - starts[$0]) * sampleSize * MemoryLayout<Float>.size }
        let all = [Float](unsafeUninitializedCapacity: n * sampleSize) { buffer, initialized in
            out.withUnsafeBytes { ranks.allgather($0, into: UnsafeMutableRawBufferPointer(buffer), counts: counts) }
            initialized = n * sampleSize
        }
        return Tensor(shape: [n] + outputShape, storage: all)
    }

    /// Runs `predict` over `x` one run of batches at a time (a batch per
    /// rank), handing `body` each run's samples, inputs and outputs in order,
    /// then letting them go: memory stays that of one run whatever the size
    /// of `x`, and each batch is the one a single `predict` would run. False
    /// when `shouldStop` said stop.
    public func predictInRuns(_ x: Tensor, batchSize: Int = Sequential.inferenceBatch, shouldStop: () -> Bool,
                              ranks: any Collective = Ranks.current,
                              _ body: (_ samples: Range<Int>, _ inputs: Tensor, _ outputs: Tensor) -> Void) -> Bool {
        let run = max(1, batchSize) * ranks.size
        var start = 0
        while start < x.batch {
            let samples = start..<min(x.batch, start + run)
            let inputs = samples.count == x.batch ? x : x.gathering(samples: Array(samples))
            guard let outputs = predict(inputs, batchSize: batchSize, shouldStop: shouldStop, ranks: ranks) else { return false }
            body(samples, inputs, outputs)
            start += run
        }
        return true
    }
}
