/// `depthwise KERNEL [multiplier M] [ACTIVATION] [stride S] [padding valid|same] [l2 λ]`
/// (Keras's DepthwiseConv2D).
public struct DepthwiseSpec: LayerSpec, Equatable {
    public var kernel: Window
    /// Filters per input channel (Keras's `depth_multiplier`).
    public var multiplier: Int
    public var activation: ActivationFunction
    public var stride: Int
    public var padding: Conv2D.Padding
    /// λ of `l2 λ` (see `LayerSpec.l2`).
    public var l2: Float

    public init(kernel: Window, multiplier: Int = 1, activation: ActivationFunction = .linear, stride: Int = 1,
                padding: Conv2D.Padding = .valid, l2: Float = 0) {
        self.l2 = l2
        self.kernel = kernel
        self.multiplier = multiplier
        self.activation = activation
        self.stride = stride
        self.padding = padding
    }

    public var blockPrefix: String { "depthwise" }

    public func parameterCount(input: [Int]) throws(ShapeError) -> Int {
        guard let channels = input.last, let outputs = Shape.count([channels, multiplier]),
              let weights = Shape.count([kernel.height, kernel.width, outputs]) else {
            throw ShapeError("the layer is too large to build")
        }
        return weights + outputs
    }

    public func build(name: String, input: [Int], random: inout RandomGenerator) throws(ShapeError) -> [Layer] {
        withActivation(try DepthwiseConv2D(name: name, input: input, kernel: kernel, multiplier: multiplier, stride: stride,
                                           padding: padding, random: &random), activation)
    }
}

/// A depthwise convolution over `[batch, height, width, channels]`: each
/// input channel convolved with M filters of its own (output channel c·M + m
/// from channel c), kernel `[kh, kw, C, M]` and bias `[C·M]` as Keras's
/// DepthwiseConv2D; `conv2d` with as many groups as channels, by a direct
/// loop instead of im2col (`DepthwiseKernel`).
public final class DepthwiseConv2D: Layer {
    public let name: String
    public let kind = "depthwise"
    public let inputShape: [Int]
    public let outputShape: [Int]
    public let weight: Parameter
    public let bias: Parameter
    let pass: DepthwiseKernel
    /// The step between windows.
    public var stride: Int { pass.geometry.stride }
    /// The zeros before the first row and the first column (`same` padding).
    public var paddingBefore: (rows: Int, columns: Int) { (pass.geometry.padTop, pass.geometry.padLeft) }
    /// What the last training batch convolved, for backward.
    private var convolved: [Float] = []

    public init(name: String, input: [Int], kernel: Window, multiplier: Int, stride: Int, padding: Conv2D.Padding,
                random: inout RandomGenerator) throws(ShapeError) {
        pass = try DepthwiseKernel(input: input, kernel: kernel, multiplier: multiplier, stride: stride, padding: padding,
                                   layer: "depthwise")
        self.name = name
        inputShape = input
        outputShape = pass.outputShape
        // Keras's glorot_uniform on [kh, kw, C, M]: fans kh·kw·C and kh·kw·M.
        weight = Parameter(name: "kernel", value: Initializer.glorotUniform(
            shape: [kernel.height, kernel.width, input[2], multiplier], fanIn: kernel.area * input[2],
            fanOut: kernel.area * multiplier, random: &random))
        bias = Parameter(name: "bias", value: Tensor(zeros: [pass.channels]))
    }

    private init(replicating other: DepthwiseConv2D, on parameters: [Parameter]) {
        name = other.name
        inputShape = other.inputShape
        outputShape = other.outputShape
        pass = other.pass
        weight = parameters[0]
        bias = parameters[1]
    }

    public func replica(on parameters: [Parameter]) -> Layer { DepthwiseConv2D(replicating: self, on: parameters) }

    public var parameters: [Parameter] { [weight, bias] }
    public var state: [LayerState] { [] }
    public var multiplyAdds: Int { pass.multiplyAdds }
    public var trainingFloatsPerSample: Int { pass.trainingFloatsPerSample }
    /// Its own filters and bias at every position.
    public var unsharedParameters: Int { pass.positions * (pass.kernel.area * pass.channels + pass.channels) }
    /// Every output channel seeing every input channel.
    public var fullConvolution: FullConvolutionCost? {
        FullConvolutionCost(parameters: pass.kernel.area * inputShape[2] * pass.channels + pass.channels,
                            multiplyAdds: pass.multiplyAdds * inputShape[2])
    }
    public var filterImages: [FilterImages] { [pass.filterImages(weight)] }
    /// The kernel as taps × output channels.
    public var weightGrids: [ReportGrid] { ReportGrid.grids(of: weight, layer: name, rows: pass.kernel.area) }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let input = pass.convolved(x)
        let y = Tensor(shape: [x.batch] + outputShape) { pass.forward(input, weight: weight, bias: bias, batch: x.batch, into: $0.baseAddress!) }
        if training { convolved = input }
        return y
    }

    public func addParameterGradients(_ dy: Tensor) { _ = gradients(dy, wantsInput: false) }

    public func backward(_ dy: Tensor) -> Tensor {
        pass.inputGradient(gradients(dy, wantsInput: true)!, shape: [dy.batch] + inputShape)
    }

    private func gradients(_ dy: Tensor, wantsInput: Bool) -> [Float]? {
        dy.storage.withUnsafeBufferPointer {
            GEMM.addRows($0, rows: dy.batch * pass.positions, into: &bias.gradient.storage)
            return pass.backward($0.baseAddress!, input: convolved, weight: weight, batch: dy.batch, wantsInput: wantsInput)
        }
    }
}
