/// `dense UNITS [ACTIVATION]`: a fully connected layer on a flat input.
public struct DenseSpec: LayerSpec, Equatable {
    public var units: Int
    public var activation: ActivationFunction
    /// The share of weights fixed at zero (`sparse P%`), nil for none.
    public var sparsity: Double?

    public init(units: Int, activation: ActivationFunction, sparsity: Double? = nil) {
        self.units = units
        self.activation = activation
        self.sparsity = sparsity
    }

    public var blockPrefix: String { "dense" }

    public func parameterCount(input: [Int]) throws(ShapeError) -> Int {
        // On a sequence the weights act on each step's features.
        guard let inputs = input.count == 2 ? input.last : Shape.count(input), let weights = Shape.count([inputs + 1, units]) else {
            throw ShapeError("the layer is too large to build")
        }
        return weights
    }

    public func build(name: String, input: [Int], random: inout RandomGenerator) throws(ShapeError) -> [Layer] {
        guard input.count <= 2 else {
            throw ShapeError("dense needs a flat input but gets \(Shape.text(input)); add `flatten` before it")
        }
        guard units > 0 else { throw ShapeError("dense needs at least one unit") }
        let steps = input.count == 2 ? input[0] : nil
        let dense = Dense(name: name, inputs: input.last!, units: units, steps: steps, random: &random)
        if let sparsity { try SparseWeights.fix(dense.weight, sparsity: sparsity, random: &random) }
        return withActivation(dense, activation)
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
public final class Dense: Layer {
    public let name: String
    public let kind = "dense"
    public let inputShape: [Int]
    public let outputShape: [Int]
    public let weight: Parameter
    public let bias: Parameter
    private var input = Tensor(zeros: [0])

    public init(name: String, inputs: Int, units: Int, steps: Int? = nil, random: inout RandomGenerator) {
        self.name = name
        inputShape = steps.map { [$0, inputs] } ?? [inputs]
        outputShape = steps.map { [$0, units] } ?? [units]
        weight = Parameter(name: "kernel", value: Initializer.glorotUniform(shape: [inputs, units], fanIn: inputs,
                                                                             fanOut: units, random: &random))
        bias = Parameter(name: "bias", value: Tensor(zeros: [units]))
    }

    private init(replicating other: Dense) {
        name = other.name
        inputShape = other.inputShape
        outputShape = other.outputShape
        weight = other.weight.replica()
        bias = other.bias.replica()
    }

    public func replica() -> Layer { Dense(replicating: self) }

    public var parameters: [Parameter] { [weight, bias] }
    /// Rows per sample: the steps of a sequence, else 1.
    var positions: Int { inputShape.count == 2 ? inputShape[0] : 1 }
    public var multiplyAdds: Int { positions * inputShape.last! * outputShape.last! }
    /// Its output, the gradient passed back, and one more output's worth for
    /// the gradient it receives (the input it keeps is the layer before's output).
    public var trainingFloatsPerSample: Int { outputSize * 3 }
    /// On a sequence, the same weights at every step: unshared, a copy per step.
    public var unsharedParameters: Int { positions * parameterCount }

    var affine: Affine { Affine(weight: weight, bias: bias, inputs: inputShape.last!, units: outputShape.last!) }

    /// Weights with at least this share of zeros are multiplied through
    /// `SparseColumns` at inference. Measured on one core here (a
    /// 784-2048-2048-10 network on 2,000 samples, pruned throughout): the
    /// dense product 133 ms; the sparse kernel 129 ms at 80% zeros, 68 ms at
    /// 90%, 41 ms at 95%, 17 ms at 99%. They cross at about 80%.
    public static let sparseInferenceThreshold = 0.8
    /// The weight's version when it was last looked at, and its sparse copy
    /// if it was sparse enough: remade when the version moves (every
    /// optimizer step, mask and load bumps it; see `Parameter.markChanged`).
    private var checked: (version: Int, sparse: SparseColumns?)?

    /// Whether inference runs through the sparse kernel (the weight's zeros at or past the threshold).
    public var infersSparsely: Bool { sparseWeight() != nil }

    func sparseWeight() -> SparseColumns? {
        if let checked, checked.version == weight.version { return checked.sparse }
        let zeros = Double(weight.zeroCount) / Double(max(1, weight.value.count))
        let sparse = zeros >= Dense.sparseInferenceThreshold ? SparseColumns(weight) : nil
        checked = (weight.version, sparse)
        return sparse
    }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        if training { input = x }
        let rows = x.batch * positions
        if !training, let sparse = sparseWeight() {
            return Tensor(shape: [x.batch] + outputShape) { out in
                x.storage.withUnsafeBufferPointer { xs in
                    bias.value.storage.withUnsafeBufferPointer { b in
                        sparse.multiply(xs.baseAddress!, rows: rows, bias: b.baseAddress!, into: out.baseAddress!)
                    }
                }
            }
        }
        return Tensor(shape: [x.batch] + outputShape) { out in
            x.storage.withUnsafeBufferPointer { affine.forward($0.baseAddress!, rows: rows, into: out.baseAddress!) }
        }
    }

    public func backward(_ dy: Tensor) -> Tensor {
        addParameterGradients(dy)
        return Tensor(shape: [dy.batch] + inputShape) { out in
            dy.storage.withUnsafeBufferPointer {
                affine.inputGradient($0.baseAddress!, rows: dy.batch * positions, into: out.baseAddress!)
            }
        }
    }

    public func addParameterGradients(_ dy: Tensor) {
        dy.storage.withUnsafeBufferPointer { g in
            input.storage.withUnsafeBufferPointer { xs in
                affine.addParameterGradients(x: xs.baseAddress!, dy: g, rows: dy.batch * positions)
            }
        }
    }
}
