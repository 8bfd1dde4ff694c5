/// `dense UNITS [ACTIVATION]`: a fully connected layer on a flat input.
public struct DenseSpec: LayerSpec, Equatable {
    public var units: Int
    public var activation: ActivationFunction

    public init(units: Int, activation: ActivationFunction) {
        self.units = units
        self.activation = activation
    }

    public var blockPrefix: String { "dense" }

    public func parameterCount(input: [Int]) throws(ShapeError) -> Int {
        guard let inputs = Shape.count(input), let weights = Shape.count([inputs + 1, units]) else {
            throw ShapeError("the layer is too large to build")
        }
        return weights
    }

    public func build(name: String, input: [Int], random: inout RandomGenerator) throws(ShapeError) -> [Layer] {
        guard input.count == 1 else {
            throw ShapeError("dense needs a flat input but gets \(Shape.text(input)); add `flatten` before it")
        }
        guard units > 0 else { throw ShapeError("dense needs at least one unit") }
        return withActivation(Dense(name: name, inputs: input[0], units: units, random: &random), activation)
    }
}

extension LayerSpec where Self == DenseSpec {
    public static func dense(units: Int, activation: ActivationFunction) -> DenseSpec {
        DenseSpec(units: units, activation: activation)
    }
}

/// A fully connected layer: y = x·W + b, with x `[batch, inputs]`,
/// W `[inputs, units]`, b `[units]`, y `[batch, units]`.
public final class Dense: Layer {
    public let name: String
    public let kind = "dense"
    public let inputShape: [Int]
    public let outputShape: [Int]
    public let weight: Parameter
    public let bias: Parameter
    private var input = Tensor(zeros: [0])

    public init(name: String, inputs: Int, units: Int, random: inout RandomGenerator) {
        self.name = name
        inputShape = [inputs]
        outputShape = [units]
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
    public var multiplyAdds: Int { inputShape[0] * outputShape[0] }
    /// Its output, the gradient passed back, and one more output's worth for
    /// the gradient it receives (the input it keeps is the layer before's output).
    public var trainingFloatsPerSample: Int { outputSize * 3 }
    public var unsharedParameters: Int { parameterCount }

    var affine: Affine { Affine(weight: weight, bias: bias, inputs: inputShape[0], units: outputShape[0]) }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        if training { input = x }
        return Tensor(shape: [x.batch] + outputShape) { out in
            x.storage.withUnsafeBufferPointer { affine.forward($0.baseAddress!, rows: x.batch, into: out.baseAddress!) }
        }
    }

    public func backward(_ dy: Tensor) -> Tensor {
        addParameterGradients(dy)
        return Tensor(shape: [dy.batch] + inputShape) { out in
            dy.storage.withUnsafeBufferPointer { affine.inputGradient($0.baseAddress!, rows: dy.batch, into: out.baseAddress!) }
        }
    }

    public func addParameterGradients(_ dy: Tensor) {
        dy.storage.withUnsafeBufferPointer { g in
            input.storage.withUnsafeBufferPointer { xs in
                affine.addParameterGradients(x: xs.baseAddress!, dy: g, rows: dy.batch)
            }
        }
    }
}
