/// What a model definition asks for, one entry per line of a `model` block.
public enum LayerSpec: Sendable, Equatable {
    case dense(units: Int, activation: ActivationFunction)
    case conv2d(filters: Int, kernel: (Int, Int), activation: ActivationFunction, stride: Int, padding: Conv2D.Padding)
    case maxpool(size: (Int, Int), stride: Int?)
    case avgpool(size: (Int, Int), stride: Int?)
    case flatten
    case dropout(rate: Float)

    public static func == (a: LayerSpec, b: LayerSpec) -> Bool { a.describe == b.describe }

    /// The kind, as the language names it.
    public var kind: String {
        switch self {
        case .dense: return "dense"
        case .conv2d: return "conv"
        case .maxpool, .avgpool: return "pool"
        case .flatten: return "flatten"
        case .dropout: return "dropout"
        }
    }

    var describe: String { "\(self)" }
}

/// A layer as the user wrote it: one line of the model block, which may be
/// several engine layers (a dense layer and its activation).
public struct Block {
    public let name: String
    public let spec: LayerSpec
    public let layers: [Layer]
    public var main: Layer { layers[0] }
    public var outputShape: [Int] { layers.last!.outputShape }
    public var parameters: [Parameter] { layers.flatMap(\.parameters) }
}

/// A sequential model: blocks applied in order to batch-first tensors.
public final class Sequential {
    public let name: String
    public let inputShape: [Int]
    public private(set) var blocks: [Block] = []
    public var random: RandomGenerator
    private var counters: [String: Int] = [:]

    /// Memory per weight: the weight, its gradient and the optimizer's two moments.
    public static let bytesPerWeight = 16

    /// The most weights the model may hold; checked before a layer allocates.
    public var maxParameters = Int.max

    public init(name: String, inputShape: [Int], random: RandomGenerator) throws(ShapeError) {
        guard !inputShape.isEmpty, inputShape.allSatisfy({ $0 > 0 }) else {
            throw ShapeError("the input shape must have positive dimensions, not \(Shape.text(inputShape))")
        }
        guard let size = Shape.count(inputShape), size <= 1 << 32 else {
            throw ShapeError("an input of \(Shape.text(inputShape)) is too large")
        }
        self.name = name
        self.inputShape = inputShape
        self.random = random
    }

    private init(replicating other: Sequential) {
        name = other.name
        inputShape = other.inputShape
        random = other.random
        maxParameters = other.maxParameters
        blocks = other.blocks.map { Block(name: $0.name, spec: $0.spec, layers: $0.layers.map { $0.replica() }) }
    }

    /// The model with every layer replicated (see `Layer.replica`).
    public func replica() -> Sequential { Sequential(replicating: self) }

    public var outputShape: [Int] { blocks.last?.outputShape ?? inputShape }
    public var layers: [Layer] { blocks.flatMap(\.layers) }
    public var parameters: [Parameter] { layers.flatMap(\.parameters) }
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }

    /// The block named `name` (`conv1`, `dense2`, or a name given with `as`).
    public func block(named name: String) -> Block? { blocks.first { $0.name == name } }

    /// Adds a layer on the current output; fails, naming the problem, when
    /// the layer does not fit it. `name` overrides kind-and-position naming.
    public func add(_ spec: LayerSpec, name given: String? = nil) throws(ShapeError) {
        let kind = spec.kind
        counters[kind, default: 0] += 1
        let name = given ?? "\(kind)\(counters[kind]!)"
        if blocks.contains(where: { $0.name == name }) { throw ShapeError("a layer named `\(name)` already exists") }
        let input = outputShape
        let needed = try Sequential.parameters(of: spec, input: input)
        guard needed <= maxParameters else {
            throw ShapeError("\(name) would need \(needed) weights, more than the memory limit allows (\(maxParameters))")
        }
        var built: [Layer] = []
        switch spec {
        case .dense(let units, let activation):
            guard input.count == 1 else {
                throw ShapeError("dense needs a flat input but gets \(Shape.text(input)); add `flatten` before it")
            }
            guard units > 0 else { throw ShapeError("dense needs at least one unit") }
            built.append(Dense(name: name, inputs: input[0], units: units, random: &random))
            if activation != .linear { built.append(Activation(name: name, function: activation, shape: [units])) }
        case .conv2d(let filters, let kernel, let activation, let stride, let padding):
            let conv = try Conv2D(name: name, input: input, filters: filters, kernel: kernel, stride: stride,
                                  padding: padding, random: &random)
            built.append(conv)
            if activation != .linear { built.append(Activation(name: name, function: activation, shape: conv.outputShape)) }
        case .maxpool(let size, let stride):
            built.append(try Pooling2D(name: name, mode: .max, input: input, size: size, stride: stride))
        case .avgpool(let size, let stride):
            built.append(try Pooling2D(name: name, mode: .average, input: input, size: size, stride: stride))
        case .flatten:
            built.append(Flatten(name: name, input: input))
        case .dropout(let rate):
            built.append(try Dropout(name: name, rate: rate, input: input, random: &random))
        }
        blocks.append(Block(name: name, spec: spec, layers: built))
        planned = nil
    }

    /// The layers as forward and backward run them. Where relu feeds max
    /// pooling, the pooling runs first and relu after it, on a quarter of the
    /// values: the two commute (the largest of rectified values is the
    /// rectified largest value, and its gradient reaches the same input), so
    /// outputs and gradients are those of the model as written.
    var plan: [Layer] {
        if let planned { return planned }
        var steps: [Layer] = []
        for layer in layers {
            if let pool = layer as? Pooling2D, pool.mode == .max,
               let relu = steps.last as? Activation, relu.function == .relu {
                steps[steps.count - 1] = pool
                steps.append(Activation(name: relu.name, function: .relu, shape: pool.outputShape))
            } else {
                steps.append(layer)
            }
        }
        planned = steps
        return steps
    }
    private var planned: [Layer]?

    /// A product of dimensions, or nil when it overflows.
    static func product(_ dims: [Int]) -> Int? {
        var p = 1
        for d in dims {
            let (r, overflow) = p.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            p = r
        }
        return p
    }

    /// The weights `spec` would allocate on `input`, computed without
    /// allocating and without overflowing.
    public static func parameters(of spec: LayerSpec, input: [Int]) throws(ShapeError) -> Int {
        let tooLarge = ShapeError("the layer is too large to build")
        switch spec {
        case .dense(let units, _):
            guard let inputs = product(input), let w = product([inputs + 1, units]) else { throw tooLarge }
            return w
        case .conv2d(let filters, let kernel, _, _, _):
            guard let channels = input.last, let w = product([kernel.0, kernel.1, channels, filters]) else { throw tooLarge }
            return w + filters
        default:
            return 0
        }
    }

    /// Whether the model ends in softmax (so cross-entropy can be fused with it).
    public var endsInSoftmax: Bool { (layers.last as? Activation)?.function == .softmax }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        var y = x
        for layer in plan { y = layer.forward(y, training: training) }
        return y
    }

    /// Back-propagates `gradient` from the output; with `fromLogits`, the
    /// gradient is already with respect to the final softmax's input.
    public func backward(_ gradient: Tensor, fromLogits: Bool = false) {
        var g = gradient
        let all = plan
        let last = fromLogits && endsInSoftmax ? all.count - 1 : all.count
        guard last > 0 else { return }
        for layer in all[1..<last].reversed() { g = layer.backward(g) }
        all[0].addParameterGradients(g)
    }

    /// Outputs for many samples, `batchSize` at a time, without training.
    public func predict(_ x: Tensor, batchSize: Int = 256) -> Tensor {
        let n = x.batch
        var out: [Float] = []
        out.reserveCapacity(n * outputShape.reduce(1, *))
        var start = 0
        while start < n {
            let indices = Array(start..<min(n, start + batchSize))
            out += forward(x.gathering(samples: indices), training: false).storage
            start += batchSize
        }
        return Tensor(shape: [n] + outputShape, storage: out)
    }
}
