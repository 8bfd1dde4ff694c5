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
    let padTop: Int
    let padLeft: Int
    /// The last training batch's patches, and their gradient: reused from
    /// batch to batch while the batch size holds.
    private var columns: [Float] = []
    private var columnGradient: [Float] = []

    public enum Padding: String, Sendable, CaseIterable { case valid, same }

    /// Its filters as images, for `show filters`.
    public var filterImages: FilterImages? { FilterImages(kernel: weight.value) }

    public init(name: String, input: [Int], filters: Int, kernel: Window, stride: Int, padding: Padding,
                random: inout RandomGenerator) throws(ShapeError) {
        guard input.count == 3 else { throw ShapeError("conv2d needs an input of height×width×channels, not \(Shape.text(input))") }
        guard filters > 0, kernel.height > 0, kernel.width > 0, stride > 0 else {
            throw ShapeError("conv2d needs positive filters, kernel and stride")
        }
        let (h, w, c) = (input[0], input[1], input[2])
        let (ho, wo, pt, pl): (Int, Int, Int, Int)
        switch padding {
        case .valid:
            guard h >= kernel.height, w >= kernel.width else {
                throw ShapeError("a \(kernel.height)x\(kernel.width) kernel does not fit a \(h)x\(w) input")
            }
            (ho, wo, pt, pl) = ((h - kernel.height) / stride + 1, (w - kernel.width) / stride + 1, 0, 0)
        case .same:
            // As Keras: out = ⌈in / stride⌉, padding split with the extra at the end.
            let oh = (h + stride - 1) / stride, ow = (w + stride - 1) / stride
            let padH = max((oh - 1) * stride + kernel.height - h, 0), padW = max((ow - 1) * stride + kernel.width - w, 0)
            (ho, wo, pt, pl) = (oh, ow, padH / 2, padW / 2)
        }
        self.name = name
        inputShape = input
        outputShape = [ho, wo, filters]
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        padTop = pt
        padLeft = pl
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
        padTop = other.padTop
        padLeft = other.padLeft
        weight = parameters[0]
        bias = parameters[1]
    }

    public func replica(on parameters: [Parameter]) -> Layer { Conv2D(replicating: self, on: parameters) }

    public var parameters: [Parameter] { [weight, bias] }
    public var state: [LayerState] { [] }
    var patchSize: Int { kernel.height * kernel.width * inputShape[2] }
    var positions: Int { outputShape[0] * outputShape[1] }
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
            cols.withUnsafeMutableBufferPointer { dst in im2col(src, dst, batch: n) }
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
            dx.storage.withUnsafeMutableBufferPointer { out in col2im(d, out, batch: n) }
        }
        columnGradient = patchGradient
        return dx
    }

    /// Walks every (sample, output position, kernel row) that lands inside the
    /// input, as runs: in NHWC a kernel row's taps that fall inside the image
    /// are one contiguous run of `count` floats. `body(patch index, input
    /// index, count)`.
    @inline(__always)
    func forEachRun(samples: Range<Int>, _ body: (Int, Int, Int) -> Void) {
        let (h, w, c) = (inputShape[0], inputShape[1], inputShape[2])
        let (ho, wo) = (outputShape[0], outputShape[1])
        let (kh, kw, patch) = (kernel.height, kernel.width, patchSize)
        // Offsets stay far below Int.max (the shapes were checked when the
        // layer was built), so the arithmetic here wraps instead of trapping.
        for s in samples {
            for oy in 0..<ho {
                let rowStart = (s &* ho &+ oy) &* wo
                for ky in 0..<kh {
                    let iy = oy &* stride &+ ky &- padTop
                    if iy < 0 || iy >= h { continue }
                    let inputRow = (s &* h &+ iy) &* w
                    var x0 = -padLeft, patchAt = rowStart &* patch &+ ky &* kw &* c
                    for _ in 0..<wo {
                        let first = max(0, -x0), last = min(kw, w &- x0)  // taps [first, last) are inside
                        if first < last {
                            body(patchAt &+ first &* c, (inputRow &+ x0 &+ first) &* c, (last &- first) &* c)
                        }
                        x0 = x0 &+ stride
                        patchAt = patchAt &+ patch
                    }
                }
            }
        }
    }

    func im2col(_ x: UnsafeBufferPointer<Float>, _ cols: UnsafeMutableBufferPointer<Float>, batch n: Int) {
        let src = x.baseAddress!, dst = cols.baseAddress!
        Parallel.chunks(n) { samples in
            forEachRun(samples: samples) { p, i, count in Vector.copy(src + i, into: dst + p, count: count) }
        }
    }

    func col2im(_ cols: UnsafeBufferPointer<Float>, _ dx: UnsafeMutableBufferPointer<Float>, batch n: Int) {
        let src = cols.baseAddress!, dst = dx.baseAddress!
        // Each sample's patches land only in that sample's input: chunks by sample never collide.
        Parallel.chunks(n) { samples in
            forEachRun(samples: samples) { p, i, count in Vector.add(src + p, into: dst + i, count: count) }
        }
    }
}
