/// `local2d FILTERS KERNEL [ACTIVATION] [stride S] [padding valid|same] [l2 λ]`:
/// conv2d's connections with a kernel of its own at every output position
/// (Keras 2's `LocallyConnected2D`), conv2d's unshared twin.
public struct Local2DSpec: LayerSpec, Equatable {
    public var filters: Int
    public var kernel: Window
    public var activation: ActivationFunction
    public var stride: Int
    public var padding: Conv2D.Padding
    /// λ of `l2 λ` on the kernel, not the bias (see `LayerSpec.l2`).
    public var l2: Float

    public init(filters: Int, kernel: Window, activation: ActivationFunction = .linear, stride: Int = 1,
                padding: Conv2D.Padding = .valid, l2: Float = 0) {
        self.l2 = l2
        self.filters = filters
        self.kernel = kernel
        self.activation = activation
        self.stride = stride
        self.padding = padding
    }

    public var blockPrefix: String { "local" }

    /// A kernel and a bias per output position; 0 when the window does not
    /// fit, which `build` then names.
    public func parameterCount(input: [Int]) throws(ShapeError) -> Int {
        try LocallyConnected2D.parameterCount(layer: "local2d", input: input, filters: filters, kernel: kernel, stride: stride,
                                              padding: padding)
    }

    public func build(name: String, input: [Int], random: inout RandomGenerator) throws(ShapeError) -> [Layer] {
        withActivation(try LocallyConnected2D(name: name, kind: "local2d", input: input, filters: filters, kernel: kernel,
                                              stride: stride, padding: padding, random: &random), activation)
    }
}

/// `local1d FILTERS K [ACTIVATION] [stride S] [padding valid|same] [l2 λ]` on a
/// sequence `[steps, features]`: conv1d's connections with a kernel of its
/// own at every output step (Keras 2's `LocallyConnected1D`: kernel
/// `[steps out, K·features, filters]`, bias `[steps out, filters]`).
public struct Local1DSpec: LayerSpec, Equatable {
    public var filters: Int
    /// Steps each kernel spans.
    public var kernel: Int
    public var activation: ActivationFunction
    public var stride: Int
    public var padding: Conv2D.Padding
    /// λ of `l2 λ` on the kernel, not the bias (see `LayerSpec.l2`).
    public var l2: Float

    public init(filters: Int, kernel: Int, activation: ActivationFunction = .linear, stride: Int = 1,
                padding: Conv2D.Padding = .valid, l2: Float = 0) {
        self.l2 = l2
        self.filters = filters
        self.kernel = kernel
        self.activation = activation
        self.stride = stride
        self.padding = padding
    }

    public var blockPrefix: String { "local" }

    public func parameterCount(input: [Int]) throws(ShapeError) -> Int {
        guard input.count == 2 else { return 0 }
        return try LocallyConnected2D.parameterCount(layer: "local1d", input: [input[0], 1, input[1]], filters: filters,
                                                     kernel: Window(kernel, 1), stride: stride, padding: padding)
    }

    public func build(name: String, input: [Int], random: inout RandomGenerator) throws(ShapeError) -> [Layer] {
        guard input.count == 2 else { throw ShapeError("local1d needs an input of steps×features, not \(Shape.text(input))") }
        let local = try LocallyConnected2D(name: name, kind: "local1d", input: [input[0], 1, input[1]], filters: filters,
                                           kernel: Window(kernel, 1), stride: stride, padding: padding, random: &random)
        let steps = local.outputShape[0]
        local.bias.value = local.bias.value.reshaped([steps, filters])  // Keras's [steps out, filters]
        local.bias.gradient = local.bias.gradient.reshaped([steps, filters])
        return withActivation(OnSequence(local, kind: "local1d"), activation)
    }
}

/// A locally connected layer over `[batch, height, width, channels]`: at each
/// output position p its own kernel `W[p]` (`[kh·kw·C, filters]`) and bias.
/// The weight is `[positions, kh·kw·C, filters]` and the bias `[Ho, Wo,
/// filters]`, Keras 2's layout, positions row-major. Computed as conv2d is,
/// im2col first, then per position one product over the batch: the
/// position's patches (`[batch, kh·kw·C]`, a strided slice of the patch
/// matrix, not copied) times `W[p]`, written into the output's slice.
public final class LocallyConnected2D: Layer {
    public let name: String
    public let kind: String
    public let inputShape: [Int]
    public let outputShape: [Int]
    public let weight: Parameter
    public let bias: Parameter
    let grid: PatchGrid
    /// The last training batch's patches, and their gradient: reused from
    /// batch to batch while the batch size holds.
    private var columns: [Float] = []
    private var columnGradient: [Float] = []

    /// Weights and biases of `filters` kernels at every position of the grid
    /// on `input`; 0 when the window does not fit (the layer's build says why).
    static func parameterCount(layer: String, input: [Int], filters: Int, kernel: Window, stride: Int,
                               padding: Conv2D.Padding) throws(ShapeError) -> Int {
        guard let grid = try? PatchGrid(layer: layer, input: input, kernel: kernel, stride: stride, padding: padding) else { return 0 }
        guard let patch = Shape.count([kernel.height, kernel.width, grid.channels]),
              let count = Shape.count([grid.positions, patch + 1, filters]) else {
            throw ShapeError("the layer is too large to build")
        }
        return count
    }

    init(name: String, kind: String, input: [Int], filters: Int, kernel: Window, stride: Int, padding: Conv2D.Padding,
         random: inout RandomGenerator) throws(ShapeError) {
        grid = try PatchGrid(layer: kind, input: input, kernel: kernel, stride: stride, padding: padding)
        guard filters > 0 else { throw ShapeError("\(kind) needs at least one filter") }
        self.name = name
        self.kind = kind
        inputShape = input
        outputShape = [grid.outputHeight, grid.outputWidth, filters]
        // Each position's kernel drawn as conv2d draws its one.
        weight = Parameter(name: "kernel", value: Initializer.glorotUniform(
            shape: [grid.positions, grid.patchSize, filters], fanIn: grid.patchSize, fanOut: kernel.area * filters, random: &random))
        bias = Parameter(name: "bias", value: Tensor(zeros: outputShape))
    }

    private init(replicating other: LocallyConnected2D, on parameters: [Parameter]) {
        name = other.name
        kind = other.kind
        inputShape = other.inputShape
        outputShape = other.outputShape
        grid = other.grid
        weight = parameters[0]
        bias = parameters[1]
    }

    public func replica(on parameters: [Parameter]) -> Layer { LocallyConnected2D(replicating: self, on: parameters) }

    /// Where each value of the patch matrix comes from: per output position
    /// and patch value, in the weight's order, the index in one sample's
    /// input, or -1 for a tap outside a `same` image (zero). What the layer
    /// connects, for writing it in another format.
    public var patchSources: [Int] { grid.sources() }

    public var parameters: [Parameter] { [weight, bias] }
    public var state: [LayerState] { [] }
    var filters: Int { outputShape[2] }
    public var multiplyAdds: Int { grid.positions * grid.patchSize * filters }
    /// Outputs, and the patches and their gradient (as conv2d).
    public var trainingFloatsPerSample: Int { grid.positions * filters * 3 + grid.positions * grid.patchSize * 2 }
    /// A product per position, each over the shard's samples: 16 rows
    /// rather than 8 halve the calls (4,800 against 6,100 samples/s on the
    /// 28x28x1 benchmark), and a batch of 32 still splits across two threads.
    public var minimumShard: Int { 16 }
    /// It shares nothing: what it stores.
    public var unsharedParameters: Int { parameterCount }

    /// Calls `body(p, patches offset, kernel offset, output offset)` for every
    /// position: where position p's slice starts in the patch matrix (rows
    /// `positions·patch` apart), in the weight, and in the output (rows
    /// `positions·filters` apart).
    @inline(__always)
    private func forEachPosition(_ body: (Int, Int, Int) -> Void) {
        let (k, f) = (grid.patchSize, filters)
        for p in 0..<grid.positions { body(p &* k, p &* k &* f, p &* f) }
    }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let n = x.batch, (k, f, positions) = (grid.patchSize, filters, grid.positions)
        // Taps outside a `same` image stay zero: im2col writes only the taps inside.
        var cols = Scratch.take(&columns, count: n * positions * k, reuse: training)
        x.storage.withUnsafeBufferPointer { src in
            cols.withUnsafeMutableBufferPointer { dst in grid.im2col(src, dst, batch: n) }
        }
        let y = Tensor(shape: [n] + outputShape) { out in
            let y = out.baseAddress!
            GEMM.fillRows(y, rows: n, with: bias.value.storage)
            cols.withUnsafeBufferPointer { c in
                weight.value.storage.withUnsafeBufferPointer { w in
                    forEachPosition { patches, kernel, output in
                        GEMM.multiply(c.baseAddress! + patches, w.baseAddress! + kernel, into: y + output, m: n, n: f, k: k,
                                      beta: 1, lda: positions * k, ldc: positions * f)
                    }
                }
            }
        }
        if training { columns = cols }
        return y
    }

    /// dW[p] += patches_pᵀ·dy_p for every position; the bias's gradient is dy summed over the batch.
    public func addParameterGradients(_ dy: Tensor) {
        let n = dy.batch, (k, f, positions) = (grid.patchSize, filters, grid.positions)
        dy.storage.withUnsafeBufferPointer { g in
            columns.withUnsafeBufferPointer { c in
                weight.gradient.storage.withUnsafeMutableBufferPointer { dw in
                    forEachPosition { patches, kernel, output in
                        GEMM.multiply(c.baseAddress! + patches, transposeA: true, g.baseAddress! + output,
                                      into: dw.baseAddress! + kernel, m: k, n: f, k: n, beta: 1, lda: positions * k,
                                      ldb: positions * f)
                    }
                }
            }
            GEMM.addRows(g, rows: n, into: &bias.gradient.storage)
        }
    }

    /// The patches' gradient dy_p·W[p]ᵀ at every position, added back onto the input (col2im).
    public func backward(_ dy: Tensor) -> Tensor {
        addParameterGradients(dy)
        let n = dy.batch, (k, f, positions) = (grid.patchSize, filters, grid.positions)
        // Every position's product writes its whole slice: nothing to zero first.
        var patchGradient = Scratch.take(&columnGradient, count: n * positions * k, reuse: true)
        dy.storage.withUnsafeBufferPointer { g in
            weight.value.storage.withUnsafeBufferPointer { w in
                patchGradient.withUnsafeMutableBufferPointer { d in
                    forEachPosition { patches, kernel, output in
                        GEMM.multiply(g.baseAddress! + output, w.baseAddress! + kernel, transposeB: true,
                                      into: d.baseAddress! + patches, m: n, n: k, k: f, lda: positions * f, ldc: positions * k)
                    }
                }
            }
        }
        var dx = Tensor(zeros: [n] + inputShape)
        patchGradient.withUnsafeBufferPointer { d in
            dx.storage.withUnsafeMutableBufferPointer { out in grid.col2im(d, out, batch: n) }
        }
        columnGradient = patchGradient
        return dx
    }
}

extension LocallyConnected2D {
    /// What sharing would save: a convolution of the same shape stores one
    /// kernel and one bias where this stores one per position.
    public var sharingForm: SharingForm? {
        .unsharedTwin(convolution: grid.patchSize * filters + filters, positions: grid.positions)
    }

    /// The positions reports draw: the first, the centre and the last (all
    /// of them at once would be too many to read).
    var shownPositions: [Int] {
        let wo = grid.outputWidth
        return [0, grid.outputHeight / 2 * wo + wo / 2, grid.positions - 1].reduce(into: [Int]()) {
            if !$0.contains($1) { $0.append($1) }
        }
    }

    /// `position (row, column) of Ho×Wo`, counted from 1.
    func positionText(_ p: Int) -> String {
        let wo = grid.outputWidth
        return "position (\(p / wo + 1), \(p % wo + 1)) of \(Shape.text(Array(outputShape.prefix(2))))"
    }

    /// The filters at the shown positions, a set per position: a border
    /// position's kernels show what training left of their random start.
    public var filterImages: [FilterImages] {
        let (kernel, k, f) = (grid.kernel, grid.patchSize, filters)
        return shownPositions.map { p in
            FilterImages(kernel: Tensor(shape: [kernel.height, kernel.width, grid.channels, f],
                                        storage: Array(weight.value.storage[p * k * f..<(p + 1) * k * f])),
                         position: "at " + positionText(p))
        }
    }

    /// The kernels of the shown positions (rows kh·kw·C, a column per
    /// filter), each with its mask where it has one.
    public var weightGrids: [ReportGrid] {
        let (k, f) = (grid.patchSize, filters)
        return shownPositions.flatMap { p -> [ReportGrid] in
            let at = "\(name)'s kernel at \(positionText(p))"
            let slice = p * k * f..<(p + 1) * k * f
            let values = ReportGrid(title: "\(at), \(k)x\(f)", rows: k, columns: f,
                                    values: weight.value.storage[slice].map(Double.init))
            guard let mask = weight.mask else { return [values] }
            return [values, ReportGrid(title: "\(at): the weights that train", kind: .pattern, rows: k, columns: f,
                                       values: mask[slice].map(Double.init))]
        }
    }
}
