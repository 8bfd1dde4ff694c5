/// `conv2d FILTERS KERNEL [ACTIVATION] [stride S] [padding valid|same] [groups G]`.
public struct Conv2DSpec: LayerSpec, Equatable {
    public var filters: Int
    public var kernel: Window
    public var activation: ActivationFunction
    public var stride: Int
    public var padding: Conv2D.Padding
    /// The share of weights fixed at zero (`sparse P%`), nil for none.
    public var sparsity: Double?
    /// Input and output channels split into this many groups, each
    /// convolved on its own (PyTorch's and Keras's `groups`); 1 for a full convolution.
    public var groups: Int
    /// Whether `sparsity` is spread over the model's `erk` layers (see `Sequential.spreadSparsityByERK`).
    public var erk: Bool
    /// λ of `l2 λ`, weight decay on the kernel (see `LayerSpec.l2`).
    public var l2: Float

    public init(filters: Int, kernel: Window, activation: ActivationFunction, stride: Int, padding: Conv2D.Padding,
                sparsity: Double? = nil, groups: Int = 1, erk: Bool = false, l2: Float = 0) {
        self.erk = erk
        self.l2 = l2
        self.filters = filters
        self.kernel = kernel
        self.activation = activation
        self.stride = stride
        self.padding = padding
        self.sparsity = sparsity
        self.groups = groups
    }

    public var blockPrefix: String { "conv" }

    public func parameterCount(input: [Int]) throws(ShapeError) -> Int {
        guard let channels = input.last, let weights = Shape.count([kernel.height, kernel.width, channels / max(1, groups), filters])
        else {
            throw ShapeError("the layer is too large to build")
        }
        return weights + filters
    }

    public func build(name: String, input: [Int], random: inout RandomGenerator) throws(ShapeError) -> [Layer] {
        if erk && sparsity == nil { throw ShapeError(SparseWeights.erkNeedsSparsity) }
        let conv = try Conv2D(name: name, input: input, filters: filters, kernel: kernel, stride: stride, padding: padding,
                              groups: groups, random: &random)
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
///
/// With `groups` G the input channels and the filters split into G groups
/// and each group's filters see only its channels (kernel `[kh, kw, C/G,
/// filters]`, Keras's layout): each patch row holds its groups one after
/// another (`[G, kh·kw·C/G]`), so a group's patches are a block of columns
/// and its product one `sgemm` through leading dimensions. Groups of fewer
/// than 32 filters skip im2col and `sgemm` for direct loops (`GroupedKernel`).
///
/// A full convolution's kernel mostly masked (`SparsePattern.convolutionThreshold`)
/// trains through its pattern like a dense layer's: the patches times the
/// kernel read as `[kh·kw·C, filters]` is a dense layer's product with
/// more rows. Grouped kernels train densely.
public final class Conv2D: Layer {
    public let name: String
    public let kind = "conv2d"
    public let inputShape: [Int]
    public let outputShape: [Int]
    public let kernel: Window
    public let stride: Int
    public let padding: Padding
    public let groups: Int
    public let weight: Parameter
    public let bias: Parameter
    /// The zeros before the first row and the first column (`same` padding).
    public var paddingBefore: (rows: Int, columns: Int) { (grid.geometry.padTop, grid.geometry.padLeft) }
    /// Where the kernel lands at each output position, and the patches it gathers.
    let grid: PatchGrid
    /// The direct loops, for small groups; nil when im2col and `sgemm` pay.
    let direct: GroupedKernel?
    /// The last training batch's patches, and their gradient: reused from
    /// batch to batch while the batch size holds.
    private var columns: [Float] = []
    private var columnGradient: [Float] = []
    /// The last training batch's input, for the direct loops' backward.
    private var input = Tensor(zeros: [0])

    public enum Padding: String, Sendable, CaseIterable { case valid, same }

    /// Its filters as images, for `show filters`.
    public var filterImages: [FilterImages] { [FilterImages(kernel: weight.value)] }

    public init(name: String, input: [Int], filters: Int, kernel: Window, stride: Int, padding: Padding, groups: Int = 1,
                random: inout RandomGenerator) throws(ShapeError) {
        try ConvolutionGeometry.check(input, layer: "conv2d", kernel: kernel, stride: stride)
        guard filters > 0 else { throw ShapeError("conv2d needs positive filters") }
        let c = input[2]
        try Conv2D.check(groups: groups, channels: c, filters: filters)
        grid = try PatchGrid(layer: "conv2d", input: input, kernel: kernel, stride: stride, padding: padding, groups: groups)
        self.name = name
        inputShape = input
        outputShape = [grid.outputHeight, grid.outputWidth, filters]
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.groups = groups
        direct = GroupedKernel.pays(groups: groups, filters: filters)
            ? GroupedKernel(geometry: grid.geometry, channels: c, filters: filters, groups: groups) : nil
        let k = kernel.height * kernel.width * c / groups
        weight = Parameter(name: "kernel", value: Initializer.glorotUniform(
            shape: [kernel.height, kernel.width, c / groups, filters], fanIn: k, fanOut: kernel.height * kernel.width * filters,
            random: &random))
        bias = Parameter(name: "bias", value: Tensor(zeros: [filters]))
        weight.sparseFrom = SparsePattern.convolutionThreshold
        weight.trainsSparsely = groups == 1
    }

    /// Throws, naming the counts, unless `groups` divides both the input channels and the filters.
    static func check(groups: Int, channels: Int, filters: Int) throws(ShapeError) {
        guard groups > 0 else { throw ShapeError("conv2d needs at least one group") }
        guard channels % groups == 0 else {
            throw ShapeError("groups \(groups) must divide the input's \(channels) channels")
        }
        guard filters % groups == 0 else {
            throw ShapeError("groups \(groups) must divide the \(filters) filters")
        }
    }

    private init(replicating other: Conv2D, on parameters: [Parameter]) {
        name = other.name
        inputShape = other.inputShape
        outputShape = other.outputShape
        kernel = other.kernel
        stride = other.stride
        padding = other.padding
        groups = other.groups
        grid = other.grid
        direct = other.direct
        weight = parameters[0]
        bias = parameters[1]
    }

    public func replica(on parameters: [Parameter]) -> Layer { Conv2D(replicating: self, on: parameters) }

    public var parameters: [Parameter] { [weight, bias] }
    public var state: [LayerState] { [] }
    /// One row of the patch matrix: every group's patch.
    var patchSize: Int { grid.patchSize }
    /// The inputs each filter sees: its group's patch.
    var groupPatchSize: Int { grid.groupPatchSize }
    var positions: Int { grid.positions }
    public var multiplyAdds: Int { positions * groupPatchSize * outputShape[2] }
    /// Outputs, and the patches and their gradient (the input kept, for the direct loops).
    public var trainingFloatsPerSample: Int {
        positions * outputShape[2] * 3 + (direct == nil ? positions * patchSize * 2 : inputShape.reduce(1, *))
    }
    /// A locally connected layer: its own filters and bias at every position.
    public var unsharedParameters: Int { positions * (groupPatchSize * outputShape[2] + outputShape[2]) }
    /// A grouped convolution against the full one between the same shapes.
    public var fullConvolution: FullConvolutionCost? {
        groups == 1 ? nil : FullConvolutionCost(parameters: patchSize * outputShape[2] + outputShape[2],
                                                multiplyAdds: positions * patchSize * outputShape[2])
    }

    var affine: Affine {
        Affine(weight: weight, bias: bias, inputs: patchSize, units: outputShape[2], groups: groups, rowsArePatches: true)
    }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let n = x.batch
        if let direct {
            if training { input = x }
            return Tensor(shape: [n] + outputShape) { direct.forward(x, weight: weight, bias: bias, into: $0.baseAddress!) }
        }
        // Taps outside a `same` image stay zero: im2col writes only the taps
        // inside, and nothing else writes the patches.
        var cols = Scratch.take(&columns, count: n * positions * patchSize, reuse: training)
        x.storage.withUnsafeBufferPointer { src in
            cols.withUnsafeMutableBufferPointer { dst in grid.im2col(src, dst, batch: n) }
        }
        let y = Tensor(shape: [n] + outputShape) { out in
            cols.withUnsafeBufferPointer {
                affine.forward($0.baseAddress!, rows: n * positions, into: out.baseAddress!, training: training)
            }
        }
        if training { columns = cols }
        return y
    }

    public func addParameterGradients(_ dy: Tensor) {
        if let direct { return _ = directGradients(dy, direct, wantsInput: false) }
        dy.storage.withUnsafeBufferPointer { g in
            columns.withUnsafeBufferPointer { c in
                affine.addParameterGradients(x: c.baseAddress!, dy: g, rows: dy.batch * positions)
            }
        }
    }

    public func backward(_ dy: Tensor) -> Tensor {
        if let direct { return directGradients(dy, direct, wantsInput: true)! }
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

    /// The bias's and kernel's gradients by the direct loops, and the input's when `wantsInput`.
    private func directGradients(_ dy: Tensor, _ direct: GroupedKernel, wantsInput: Bool) -> Tensor? {
        dy.storage.withUnsafeBufferPointer { g in
            GEMM.addRows(g, rows: dy.batch * positions, into: &bias.gradient.storage)
            return direct.backward(g.baseAddress!, input: input, weight: weight, wantsInput: wantsInput)
        }
    }
}
