import LoomCore

/// `dense UNITS [ACTIVATION]`: a fully connected layer on a flat input.
public struct DenseSpec: LayerSpec, Equatable {
    public var units: Int
    public var activation: ActivationFunction
    /// The share of weights fixed at zero (`sparse P%`), nil for none.
    public var sparsity: Double?
    /// Whether `sparsity` is spread over the model's `erk` layers (see `Sequential.spreadSparsityByERK`).
    public var erk: Bool
    /// The earlier dense block whose kernel this one multiplies by,
    /// transposed, with a bias of its own (`tied LAYER`: the decoder of a
    /// tied autoencoder); nil for a kernel of its own.
    public var tied: String?
    /// The real weights a hashed layer draws its virtual matrix from
    /// (`hashed R`, see `HashedDense`); nil for a kernel of its own.
    public var hashed: Int?
    /// λ of `l2 λ`, weight decay on the kernel (see `LayerSpec.l2`).
    public var l2: Float

    public init(units: Int, activation: ActivationFunction, sparsity: Double? = nil, tied: String? = nil, hashed: Int? = nil,
                erk: Bool = false, l2: Float = 0) {
        self.erk = erk
        self.l2 = l2
        self.units = units
        self.activation = activation
        self.sparsity = sparsity
        self.tied = tied
        self.hashed = hashed
    }

    public var blockPrefix: String { "dense" }

    /// The kernel and the bias; the bias alone when the kernel is another
    /// block's; a hashed layer's R real weights and its bias.
    public func parameterCount(input: [Int]) throws(ShapeError) -> Int {
        guard let inputs = DenseSpec.inputs(input),
              let weights = Shape.count([hashed == nil && tied == nil ? inputs + 1 : 1, units]) else {
            throw ShapeError("the layer is too large to build")
        }
        guard let hashed else { return weights }
        let (total, overflow) = weights.addingReportingOverflow(hashed)
        if overflow { throw ShapeError("the layer is too large to build") }
        return total
    }

    /// As any line's, and for a hashed one its code table and the virtual
    /// matrix its replicas share, 4 bytes each a virtual weight (`WeightHash`,
    /// `VirtualWeights`); each shard's dV is the batch's (`Trainer.batchBytes`).
    public func heldBytes(input: [Int]) throws(ShapeError) -> Int {
        let weights = MemoryAccount.product(try parameterCount(input: input), Sequential.bytesPerWeight)
        guard hashed != nil else { return weights }
        guard let inputs = DenseSpec.inputs(input), let virtual = Shape.count([inputs, units]) else {
            throw ShapeError("the layer is too large to build")
        }
        return MemoryAccount.sum(weights, MemoryAccount.product(virtual, 8))
    }

    /// The inputs each unit sees: on a sequence, each step's features.
    private static func inputs(_ input: [Int]) -> Int? { input.count == 2 ? input.last : Shape.count(input) }

    public func build(name: String, input: [Int], random: inout RandomGenerator) throws(ShapeError) -> [Layer] {
        try build(name: name, input: input, earlier: [], random: &random)
    }

    public func build(name: String, input: [Int], earlier: [Block], random: inout RandomGenerator) throws(ShapeError) -> [Layer] {
        guard input.count <= 2 else {
            throw ShapeError("dense needs a flat input but gets \(Shape.text(input)); add `flatten` before it")
        }
        guard units > 0 else { throw ShapeError("dense needs at least one unit") }
        if erk && sparsity == nil { throw ShapeError(SparseWeights.erkNeedsSparsity) }
        let steps = input.count == 2 ? input[0] : nil
        if let hashed { return withActivation(try hashedLayer(name: name, inputs: input.last!, buckets: hashed, steps: steps,
                                                              random: &random), activation) }
        let dense: Dense
        if let tied {
            let lender = try earlier.lender(tied, of: name, how: "is tied to the kernel of")
            if sparsity != nil {
                throw ShapeError("\(name) uses \(tied)'s kernel, and with it its mask: give `sparse` on \(tied)")
            }
            dense = try Dense(name: name, tiedTo: lender, inputs: input.last!, units: units, steps: steps)
        } else {
            dense = Dense(name: name, inputs: input.last!, units: units, steps: steps, random: &random)
            if let sparsity, !erk { try SparseWeights.fix(dense.weight, sparsity: sparsity, random: &random) }
        }
        return withActivation(dense, activation)
    }

    /// A `HashedDense` on `buckets` real weights: refused with `tied` or
    /// `sparse`, and with more real weights than the virtual matrix has.
    private func hashedLayer(name: String, inputs: Int, buckets: Int, steps: Int?,
                             random: inout RandomGenerator) throws(ShapeError) -> HashedDense {
        if tied != nil { throw ShapeError("\(name) is hashed, so it has no kernel to tie: give `hashed` or `tied`, not both") }
        if sparsity != nil {
            throw ShapeError("\(name) is hashed: its virtual weights share buckets, so `sparse` cannot fix single ones "
                             + "(prune the real weights instead)")
        }
        let virtual = inputs * units
        guard buckets >= 1, buckets <= virtual else {
            throw ShapeError("\(name) hashes a \(inputs)x\(units) matrix (\(virtual) virtual weights), so `hashed` takes "
                             + "1 to \(virtual) real weights, not \(buckets)")
        }
        return HashedDense(name: name, inputs: inputs, units: units, buckets: buckets, steps: steps, random: &random)
    }
}

extension LayerSpec where Self == DenseSpec {
    public static func dense(units: Int, activation: ActivationFunction) -> DenseSpec {
        DenseSpec(units: units, activation: activation)
    }
}

/// A fully connected layer: y = x·W + b, with x `[batch, inputs]`,
/// W `[inputs, units]`, b `[units]`, y `[batch, units]`. On a sequence
/// `[batch, steps, inputs]` it acts on every step with the same weights
/// (Keras's `Dense` on a 3-D input), giving `[batch, steps, units]`.
///
/// A layer tied to another's kernel multiplies by its transpose: its
/// `weight` is then the other layer's, stored `[units, inputs]`.
public final class Dense: Layer {
    public let name: String
    public let kind = "dense"
    public let inputShape: [Int]
    public let outputShape: [Int]
    public let weight: Parameter
    public let bias: Parameter
    /// Whether `weight` is used transposed (see `DenseSpec.tied`).
    public let transposesKernel: Bool
    private var input = Tensor(zeros: [0])

    public init(name: String, inputs: Int, units: Int, steps: Int? = nil, random: inout RandomGenerator) {
        self.name = name
        inputShape = steps.map { [$0, inputs] } ?? [inputs]
        outputShape = steps.map { [$0, units] } ?? [units]
        weight = Parameter(name: "kernel", value: Initializer.glorotUniform(shape: [inputs, units], fanIn: inputs,
                                                                             fanOut: units, random: &random))
        bias = Parameter(name: "bias", value: Tensor(zeros: [units]))
        transposesKernel = false
        weight.trainsSparsely = true
    }

    /// A layer on the transpose of `lender`'s kernel, with a bias of its own
    /// (`tied`); throws, naming both layers, unless `lender` is a dense layer
    /// from `units` inputs to `inputs` units.
    init(name: String, tiedTo lender: Block, inputs: Int, units: Int, steps: Int?) throws(ShapeError) {
        guard let source = lender.main as? Dense else {
            throw ShapeError("\(name) is tied to \(lender.name), a \(lender.main.kind) layer: `tied` takes a dense layer's kernel")
        }
        let (sourceInputs, sourceUnits) = (source.inputShape.last!, source.outputShape.last!)
        guard inputs == sourceUnits, units == sourceInputs else {
            throw ShapeError("\(name) is tied to \(lender.name)'s \(Shape.text([sourceInputs, sourceUnits])) kernel, so it needs "
                             + "\(sourceUnits) inputs and \(sourceInputs) units, not \(inputs) and \(units)")
        }
        self.name = name
        inputShape = steps.map { [$0, inputs] } ?? [inputs]
        outputShape = steps.map { [$0, units] } ?? [units]
        weight = source.weight
        bias = Parameter(name: "bias", value: Tensor(zeros: [units]))
        transposesKernel = !source.transposesKernel
        // Used both ways round, the kernel trains densely.
        weight.trainsSparsely = false
    }

    private init(replicating other: Dense, on parameters: [Parameter]) {
        name = other.name
        inputShape = other.inputShape
        outputShape = other.outputShape
        weight = parameters[0]
        bias = parameters[1]
        transposesKernel = other.transposesKernel
    }

    public func replica(on parameters: [Parameter]) -> Layer { Dense(replicating: self, on: parameters) }

    public var parameters: [Parameter] { [weight, bias] }
    public var state: [LayerState] { [] }
    /// Rows per sample: the steps of a sequence, else 1.
    var positions: Int { inputShape.count == 2 ? inputShape[0] : 1 }
    public var multiplyAdds: Int { positions * inputShape.last! * outputShape.last! }
    /// Its output, the gradient passed back, and one more output's worth for
    /// the gradient it receives (the input it keeps is the layer before's output).
    public var trainingFloatsPerSample: Int { outputSize * 3 }
    /// On a sequence, the same weights at every step: unshared, a copy per step.
    public var unsharedParameters: Int { positions * parameterCount }

    var affine: Affine {
        Affine(weight: weight, bias: bias, inputs: inputShape.last!, units: outputShape.last!, transposesWeight: transposesKernel)
    }

    /// Weights with at least this share of zeros are multiplied through
    /// `SparseColumns` at inference. Measured on one core here (a
    /// 784-2048-2048-10 network on 2,000 samples, pruned throughout): the
    /// dense product 133 ms; the sparse kernel 129 ms at 80% zeros, 68 ms at
    /// 90%, 41 ms at 95%, 17 ms at 99%. They cross at about 80%.
    public static let sparseInferenceThreshold = 0.8
    /// The weight's version when it was last looked at, and its sparse or
    /// packed copy if it had one: remade when the version moves (every
    /// optimizer step, mask and load bumps it; see `Parameter.markChanged`).
    private var checked: (version: Int, sparse: SparseColumns?, packed: PackedBlocks?)?

    /// Whether inference runs through the sparse kernel (the weight's zeros at or past the threshold).
    public var infersSparsely: Bool { inferenceCopy().sparse != nil }
    /// The fewest units, and rows in a batch, for which an N:M-masked layer
    /// infers through `PackedBlocks`: below them the dense product is faster.
    public static let packedInferenceUnits = PackedBlocks.leastUnits, packedInferenceRows = PackedBlocks.samples
    /// Whether inference runs through the packed kernel (an N:M mask below
    /// the sparse threshold, `packedInferenceUnits` or more) for batches of
    /// `packedInferenceRows` or more.
    public var infersPacked: Bool { inferenceCopy().packed != nil }

    /// The sparse copy past the threshold, else the packed one for an N:M
    /// mask on a kernel of the layer's own with units enough for it to pay,
    /// else neither (the dense product).
    private func inferenceCopy() -> (sparse: SparseColumns?, packed: PackedBlocks?) {
        if let checked, checked.version == weight.version { return (checked.sparse, checked.packed) }
        let zeros = Double(weight.zeroCount) / Double(max(1, weight.value.count))
        var copy: (sparse: SparseColumns?, packed: PackedBlocks?) = (nil, nil)
        if zeros >= Dense.sparseInferenceThreshold {
            copy.sparse = SparseColumns(weight, transposed: transposesKernel)
        } else if !transposesKernel, outputShape.last! >= Dense.packedInferenceUnits, let pattern = PackedBlocks.pattern(of: weight) {
            copy.packed = PackedBlocks(weight, kept: pattern.kept, block: pattern.block)
        }
        checked = (weight.version, copy.sparse, copy.packed)
        return copy
    }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        if training { input = x }
        let rows = x.batch * positions
        if !training {
            let copy = inferenceCopy()
            // Fewer rows than the packed kernel multiplies together would pad it with zeros.
            let packed = rows >= Dense.packedInferenceRows ? copy.packed : nil
            if copy.sparse != nil || packed != nil {
                return Tensor(shape: [x.batch] + outputShape) { out in
                    x.storage.withUnsafeBufferPointer { xs in
                        bias.value.storage.withUnsafeBufferPointer { b in
                            if let sparse = copy.sparse {
                                sparse.multiply(xs.baseAddress!, rows: rows, bias: b.baseAddress!, into: out.baseAddress!)
                            } else {
                                packed?.multiply(xs.baseAddress!, rows: rows, bias: b.baseAddress!, into: out.baseAddress!)
                            }
                        }
                    }
                }
            }
        }
        return Tensor(shape: [x.batch] + outputShape) { out in
            x.storage.withUnsafeBufferPointer { affine.forward($0.baseAddress!, rows: rows, into: out.baseAddress!, training: training) }
        }
    }

    public func backward(_ dy: Tensor) -> Tensor {
        addParameterGradients(dy)
        return Tensor(shape: [dy.batch] + inputShape) { out in
            dy.storage.withUnsafeBufferPointer { affine.inputGradient($0.baseAddress!, rows: dy.batch * positions, into: out.baseAddress!) }
        }
    }

    /// Through the sparse pattern when the weight trains sparsely (see `Affine`).
    public func addParameterGradients(_ dy: Tensor) {
        dy.storage.withUnsafeBufferPointer { g in
            input.storage.withUnsafeBufferPointer { affine.addParameterGradients(x: $0.baseAddress!, dy: g, rows: dy.batch * positions) }
        }
    }
}
