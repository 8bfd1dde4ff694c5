/// `conv2d FILTERS KERNEL [ACTIVATION] [stride S] [padding valid|same]`.
public struct Conv2DSpec: LayerSpec, Equatable {
    public var filters: Int
    public var kernel: Window
    public var activation: ActivationFunction
    public var stride: Int
    public var padding: Conv2D.Padding
    /// The share of weights fixed at zero (`sparse P%`), nil for none.
    public var sparsity: Double?
    /// Whether `sparsity` is spread over the model's `erk` layers (see `Sequential.spreadSparsityByERK`).
    public var erk: Bool

    public init(filters: Int, kernel: Window, activation: ActivationFunction, stride: Int, padding: Conv2D.Padding,
                sparsity: Double? = nil, erk: Bool = false) {
        self.erk = erk
        self.filters = filters
        self.kernel = kernel
        self.activation = activation
        self.stride = stride
        self.padding = padding
        self.sparsity = sparsity
    }

    public var blockPrefix: String { "conv" }

    public func parameterCount(input: [Int]) throws(ShapeError) -> Int {
        guard let channels = input.last, let weights = Shape.count([kernel.height, kernel.width, channels, filters]) else {
            throw ShapeError("the layer is too large to build")
        }
        return weights + filters
    }

    public func build(name: String, input: [Int], random: inout RandomGenerator) throws(ShapeError) -> [Layer] {
        if erk && sparsity == nil { throw ShapeError(SparseWeights.erkNeedsSparsity) }
        let conv = try Conv2D(name: name, input: input, filters: filters, kernel: kernel, stride: stride, padding: padding,
                              random: &random)
        if let sparsity, !erk { try SparseWeights.fix(conv.weight, sparsity: sparsity, random: &random) }
        return withActivation(conv, activation)
    }
}

extension LayerSpec where Self == Conv2DSpec {
    public static func conv2d(filters: Int, kernel: (Int, Int), activation: ActivationFunction, stride: Int,
                              padding: Conv2D.Padding) -> Conv2DSpec {
        Conv2DSpec(filters: filters, kernel: Window(kernel.0, kernel.1), activation: activation, stride: stride, padding: padding)
    }
}

/// A 2-D convolution over `[batch, height, width, channels]`: the same
/// filters at every position (parameter sharing). Computed as im2col then one
/// matrix product for all the samples given (`Affine`): the patches `[batch·Ho·Wo, kh·kw·C]`
/// times the filters `[kh·kw·C, filters]` give the output in NHWC order.
public final class Conv2D: Layer {
    public let name: String
    public let kind = "conv2d"
    public let inputShape: [Int]
    public let outputShape: [Int]
    public let kernel: Window
    public let stride: Int
    public let padding: Padding
    public let weight: Parameter
    public let bias: Parameter
    /// Where the kernel lands at each output position.
    let grid: PatchGrid
    /// The last training batch's patches, and their gradient: reused from
    /// batch to batch while the batch size holds.
    private var columns: [Float] = []
    private var columnGradient: [Float] = []

    public enum Padding: String, Sendable, CaseIterable { case valid, same }

    /// Its filters as images, for `show filters`.
    public var filterImages: FilterImages? { FilterImages(kernel: weight.value) }

    public init(name: String, input: [Int], filters: Int, kernel: Window, stride: Int, padding: Padding,
                random: inout RandomGenerator) throws(ShapeError) {
        grid = try PatchGrid(layer: "conv2d", input: input, kernel: kernel, stride: stride, padding: padding)
        guard filters > 0 else { throw ShapeError("conv2d needs positive filters") }
        let c = input[2]
        self.name = name
        inputShape = input
        outputShape = [grid.outputHeight, grid.outputWidth, filters]
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        let k = kernel.height * kernel.width * c
        weight = Parameter(name: "kernel", value: Initializer.glorotUniform(
            shape: [kernel.height, kernel.width, c, filters], fanIn: k, fanOut: kernel.height * kernel.width * filters, random: &random))
        bias = Parameter(name: "bias", value: Tensor(zeros: [filters]))
    }

    private init(replicating other: Conv2D, on parameters: [Parameter]) {
        name = other.name
        inputShape = other.inputShape
        outputShape = other.outputShape
        kernel = other.kernel
        stride = other.stride
        padding = other.padding
        grid = other.grid
        weight = parameters[0]
        bias = parameters[1]
    }

    public func replica(on parameters: [Parameter]) -> Layer { Conv2D(replicating: self, on: parameters) }

    public var parameters: [Parameter] { [weight, bias] }
    public var state: [LayerState] { [] }
    var patchSize: Int { grid.patchSize }
    var positions: Int { grid.positions }
    public var multiplyAdds: Int { positions * patchSize * outputShape[2] }
    /// Outputs, and the patches and their gradient.
    public var trainingFloatsPerSample: Int { positions * outputShape[2] * 3 + positions * patchSize * 2 }
    /// A locally connected layer: its own filters and bias at every position.
    public var unsharedParameters: Int { positions * (patchSize * outputShape[2] + outputShape[2]) }

    var affine: Affine { Affine(weight: weight, bias: bias, inputs: patchSize, units: outputShape[2]) }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let n = x.batch
        // Taps outside a `same` image stay zero: im2col writes only the taps
        // inside, and nothing else writes the patches.
        var cols = Scratch.take(&columns, count: n * positions * patchSize, reuse: training)
        x.storage.withUnsafeBufferPointer { src in
            cols.withUnsafeMutableBufferPointer { dst in grid.im2col(src, dst, batch: n) }
        }
        let y = Tensor(shape: [n] + outputShape) { out in
            cols.withUnsafeBufferPointer { affine.forward($0.baseAddress!, rows: n * positions, into: out.baseAddress!) }
        }
        if training { columns = cols }
        return y
    }

    public func addParameterGradients(_ dy: Tensor) {
        dy.storage.withUnsafeBufferPointer { g in
            columns.withUnsafeBufferPointer { c in
                affine.addParameterGradients(x: c.baseAddress!, dy: g, rows: dy.batch * positions)
            }
        }
    }

    public func backward(_ dy: Tensor) -> Tensor {
        addParameterGradients(dy)
        let n = dy.batch, rows = n * positions
        var patchGradient = Scratch.take(&columnGradient, count: rows * patchSize, reuse: true)
        dy.storage.withUnsafeBufferPointer { g in
            patchGradient.withUnsafeMutableBufferPointer { affine.inputGradient(g.baseAddress!, rows: rows, into: $0.baseAddress!) }
        }
        var dx = Tensor(zeros: [n] + inputShape)
        patchGradient.withUnsafeBufferPointer { d in
            dx.storage.withUnsafeMutableBufferPointer { out in grid.col2im(d, out, batch: n) }
        }
        columnGradient = patchGradient
        return dx
    }
}
