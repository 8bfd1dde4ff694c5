/// `separable FILTERS KERNEL [ACTIVATION] [multiplier M] [stride S] [padding valid|same] [l2 λ]`
/// (Keras's SeparableConv2D).
public struct SeparableSpec: LayerSpec, Equatable {
    public var filters: Int
    public var kernel: Window
    public var activation: ActivationFunction
    /// Depthwise filters per input channel (Keras's `depth_multiplier`).
    public var multiplier: Int
    public var stride: Int
    public var padding: Conv2D.Padding
    /// λ of `l2 λ` on both kernels, depthwise and pointwise (see `LayerSpec.l2`).
    public var l2: Float

    public init(filters: Int, kernel: Window, activation: ActivationFunction = .linear, multiplier: Int = 1, stride: Int = 1,
                padding: Conv2D.Padding = .valid, l2: Float = 0) {
        self.l2 = l2
        self.filters = filters
        self.kernel = kernel
        self.activation = activation
        self.multiplier = multiplier
        self.stride = stride
        self.padding = padding
    }

    public var blockPrefix: String { "separable" }

    public func parameterCount(input: [Int]) throws(ShapeError) -> Int {
        guard let channels = input.last, let middle = Shape.count([channels, multiplier]),
              let depthwise = Shape.count([kernel.height, kernel.width, middle]), let pointwise = Shape.count([middle, filters]),
              case let (sum, overflow) = depthwise.addingReportingOverflow(pointwise &+ filters), !overflow else {
            throw ShapeError("the layer is too large to build")
        }
        return sum
    }

    public func build(name: String, input: [Int], random: inout RandomGenerator) throws(ShapeError) -> [Layer] {
        withActivation(try SeparableConv2D(name: name, input: input, filters: filters, kernel: kernel, multiplier: multiplier,
                                           stride: stride, padding: padding, random: &random), activation)
    }
}

/// A depthwise-separable convolution: a depthwise convolution without bias
/// (each input channel with M filters of its own, `DepthwiseKernel`), then
/// a 1×1 convolution mixing its C·M channels into the filters (`Affine`,
/// one `sgemm`), with one bias — Keras's SeparableConv2D, its kernels
/// `[kh, kw, C, M]` and `[1, 1, C·M, filters]`.
public final class SeparableConv2D: Layer {
    public let name: String
    public let kind = "separable"
    public let inputShape: [Int]
    public let outputShape: [Int]
    public let depthwise: Parameter
    public let pointwise: Parameter
    public let bias: Parameter
    let pass: DepthwiseKernel
    /// The step between windows.
    public var stride: Int { pass.geometry.stride }
    /// The zeros before the first row and the first column (`same` padding).
    public var paddingBefore: (rows: Int, columns: Int) { (pass.geometry.padTop, pass.geometry.padLeft) }
    /// What the last training batch convolved and the depthwise outputs, for
    /// backward; the latter's buffer is reused while the batch size holds.
    private var convolved: [Float] = []
    private var middle: [Float] = []

    public init(name: String, input: [Int], filters: Int, kernel: Window, multiplier: Int, stride: Int, padding: Conv2D.Padding,
                random: inout RandomGenerator) throws(ShapeError) {
        guard filters > 0 else { throw ShapeError("separable needs positive filters") }
        pass = try DepthwiseKernel(input: input, kernel: kernel, multiplier: multiplier, stride: stride, padding: padding,
                                   layer: "separable")
        self.name = name
        inputShape = input
        outputShape = [pass.geometry.outputHeight, pass.geometry.outputWidth, filters]
        // Keras's glorot_uniform on each kernel's shape.
        depthwise = Parameter(name: "depthwise_kernel", value: Initializer.glorotUniform(
            shape: [kernel.height, kernel.width, input[2], multiplier], fanIn: kernel.area * input[2],
            fanOut: kernel.area * multiplier, random: &random))
        pointwise = Parameter(name: "pointwise_kernel", value: Initializer.glorotUniform(
            shape: [1, 1, pass.channels, filters], fanIn: pass.channels, fanOut: filters, random: &random))
        bias = Parameter(name: "bias", value: Tensor(zeros: [filters]))
    }

    private init(replicating other: SeparableConv2D, on parameters: [Parameter]) {
        name = other.name
        inputShape = other.inputShape
        outputShape = other.outputShape
        pass = other.pass
        depthwise = parameters[0]
        pointwise = parameters[1]
        bias = parameters[2]
    }

    public func replica(on parameters: [Parameter]) -> Layer { SeparableConv2D(replicating: self, on: parameters) }

    public var parameters: [Parameter] { [depthwise, pointwise, bias] }
    public var state: [LayerState] { [] }
    var filters: Int { outputShape[2] }
    public var multiplyAdds: Int { pass.multiplyAdds + pass.positions * pass.channels * filters }
    /// The depthwise pass's, the middle outputs and their gradient, and the outputs'.
    public var trainingFloatsPerSample: Int { pass.trainingFloatsPerSample + pass.positions * filters * 3 }
    /// Both kernels and the bias at every position.
    public var unsharedParameters: Int {
        pass.positions * (pass.kernel.area * pass.channels + pass.channels * filters + filters)
    }
    /// One conv2d from the input to the filters.
    public var fullConvolution: FullConvolutionCost? {
        FullConvolutionCost(parameters: pass.kernel.area * inputShape[2] * filters + filters,
                            multiplyAdds: pass.positions * pass.kernel.area * inputShape[2] * filters)
    }
    public var filterImages: [FilterImages] { [pass.filterImages(depthwise)] }
    /// The depthwise kernel as taps × channels, then the pointwise one as channels × filters.
    public var weightGrids: [ReportGrid] {
        ReportGrid.grids(of: depthwise, layer: name, label: "depthwise kernel", rows: pass.kernel.area)
            + ReportGrid.grids(of: pointwise, layer: name, label: "pointwise kernel", rows: pass.channels)
    }

    var affine: Affine { Affine(weight: pointwise, bias: bias, inputs: pass.channels, units: filters) }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let n = x.batch, rows = n * pass.positions
        let input = pass.convolved(x)
        var mid = Scratch.take(&middle, count: rows * pass.channels, reuse: training)
        mid.withUnsafeMutableBufferPointer { pass.forward(input, weight: depthwise, bias: nil, batch: n, into: $0.baseAddress!) }
        let y = Tensor(shape: [n] + outputShape) { out in
            mid.withUnsafeBufferPointer { affine.forward($0.baseAddress!, rows: rows, into: out.baseAddress!) }
        }
        if training { (convolved, middle) = (input, mid) }
        return y
    }

    public func addParameterGradients(_ dy: Tensor) { _ = gradients(dy, wantsInput: false) }

    public func backward(_ dy: Tensor) -> Tensor {
        pass.inputGradient(gradients(dy, wantsInput: true)!, shape: [dy.batch] + inputShape)
    }

    /// The pointwise product's gradients, then the depthwise pass's on the middle outputs' gradient.
    private func gradients(_ dy: Tensor, wantsInput: Bool) -> [Float]? {
        let rows = dy.batch * pass.positions
        var middleGradient = [Float](unsafeUninitializedCapacity: rows * pass.channels) { _, n in n = rows * pass.channels }
        dy.storage.withUnsafeBufferPointer { g in
            middle.withUnsafeBufferPointer { affine.addParameterGradients(x: $0.baseAddress!, dy: g, rows: rows) }
            middleGradient.withUnsafeMutableBufferPointer { affine.inputGradient(g.baseAddress!, rows: rows, into: $0.baseAddress!) }
        }
        return middleGradient.withUnsafeBufferPointer {
            pass.backward($0.baseAddress!, input: convolved, weight: depthwise, batch: dy.batch, wantsInput: wantsInput)
        }
    }
}
