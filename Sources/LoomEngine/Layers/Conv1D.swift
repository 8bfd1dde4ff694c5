/// `conv1d FILTERS K [ACTIVATION] [stride S] [padding valid|same]` on a
/// sequence `[steps, features]`: the same filters at every position, as a
/// convolution over a `steps × 1` image with `features` channels. The kernel
/// is `[K, features, filters]`, Keras's `Conv1D` layout.
public struct Conv1DSpec: LayerSpec, Equatable {
    /// The same convolution over a `steps × 1` image, with a `K × 1` kernel.
    public var convolution: Conv2DSpec

    public init(filters: Int, kernel: Int, activation: ActivationFunction = .linear, stride: Int = 1,
                padding: Conv2D.Padding = .valid) {
        convolution = Conv2DSpec(filters: filters, kernel: Window(kernel, 1), activation: activation, stride: stride,
                                 padding: padding)
    }

    public var filters: Int {
        get { convolution.filters }
        set { convolution.filters = newValue }
    }
    /// Steps each filter spans.
    public var kernel: Int {
        get { convolution.kernel.height }
        set { convolution.kernel = Window(newValue, 1) }
    }
    public var activation: ActivationFunction {
        get { convolution.activation }
        set { convolution.activation = newValue }
    }
    public var stride: Int {
        get { convolution.stride }
        set { convolution.stride = newValue }
    }
    public var padding: Conv2D.Padding {
        get { convolution.padding }
        set { convolution.padding = newValue }
    }
    public var l2: Float {
        get { convolution.l2 }
        set { convolution.l2 = newValue }
    }
    public var blockPrefix: String { "conv" }

    public func parameterCount(input: [Int]) throws(ShapeError) -> Int {
        try convolution.parameterCount(input: input)
    }

    public func build(name: String, input: [Int], random: inout RandomGenerator) throws(ShapeError) -> [Layer] {
        guard input.count == 2 else { throw ShapeError("conv1d needs an input of steps×features, not \(Shape.text(input))") }
        let conv = try Conv2D(name: name, input: [input[0], 1, input[1]], filters: filters, kernel: convolution.kernel,
                              stride: stride, padding: padding, random: &random)
        for p in [conv.weight] {  // Keras's [K, features, filters]
            p.value = p.value.reshaped([kernel, input[1], filters])
            p.gradient = p.gradient.reshaped([kernel, input[1], filters])
        }
        return withActivation(OnSequence(conv, kind: "conv1d"), activation)
    }
}

/// `maxpool1d SIZE [stride S]`: the largest value of each window of steps.
public struct MaxPool1DSpec: LayerSpec, Equatable {
    public var size: Int
    public var stride: Int?

    public init(size: Int, stride: Int?) {
        self.size = size
        self.stride = stride
    }

    public var blockPrefix: String { "pool" }
    public func parameterCount(input: [Int]) throws(ShapeError) -> Int { 0 }

    public func build(name: String, input: [Int], random: inout RandomGenerator) throws(ShapeError) -> [Layer] {
        guard input.count == 2 else { throw ShapeError("maxpool1d needs an input of steps×features, not \(Shape.text(input))") }
        return [OnSequence(try Pooling2D(name: name, mode: .max, input: [input[0], 1, input[1]], size: Window(size, 1),
                                         stride: stride), kind: "maxpool1d")]
    }
}

/// An image layer run on a sequence `[steps, features]` seen as a
/// `steps × 1` image with `features` channels (the same memory): what
/// `conv1d` and `maxpool1d` are.
public final class OnSequence: Layer {
    public let kind: String
    /// The image layer it runs on the `steps × 1` image.
    public let inner: Layer
    public let inputShape: [Int]
    public let outputShape: [Int]

    init(_ inner: Layer, kind: String) {
        self.inner = inner
        self.kind = kind
        inputShape = [inner.inputShape[0], inner.inputShape[2]]
        outputShape = [inner.outputShape[0], inner.outputShape[2]]
    }

    public var name: String { inner.name }
    public var parameters: [Parameter] { inner.parameters }
    public var state: [LayerState] { inner.state }
    public var multiplyAdds: Int { inner.multiplyAdds }
    public var trainingFloatsPerSample: Int { inner.trainingFloatsPerSample }
    public var unsharedParameters: Int { inner.unsharedParameters }
    public var weightGrids: [ReportGrid] { inner.weightGrids }
    public var sharingForm: SharingForm? { inner.sharingForm }
    public func replica(on parameters: [Parameter]) -> Layer { OnSequence(inner.replica(on: parameters), kind: kind) }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        inner.forward(x.reshaped([x.batch] + inner.inputShape), training: training).reshaped([x.batch] + outputShape)
    }

    public func backward(_ dy: Tensor) -> Tensor {
        inner.backward(dy.reshaped([dy.batch] + inner.outputShape)).reshaped([dy.batch] + inputShape)
    }

    public func addParameterGradients(_ dy: Tensor) { inner.addParameterGradients(dy.reshaped([dy.batch] + inner.outputShape)) }
}
