/// `activity l1 LAMBDA`: an L1 penalty on the previous layer's output, as
/// Keras's `ActivityRegularization(l1=λ)`: the loss gains λ·Σ|a| over a
/// batch divided by the batch's size, which pushes activations to zero. The
/// values pass through unchanged; the penalty's share of the loss is the
/// training table's `penalty` column.
public struct ActivityL1Spec: LayerSpec, Equatable {
    public var lambda: Float
    public init(lambda: Float) { self.lambda = lambda }
    public var blockPrefix: String { "activity" }
    public func parameterCount(input: [Int]) throws(ShapeError) -> Int { 0 }
    public func build(name: String, input: [Int], random: inout RandomGenerator) throws(ShapeError) -> [Layer] {
        guard lambda >= 0, lambda.isFinite else { throw ShapeError("activity l1 takes a weight of 0 or more, not \(lambda)") }
        return [ActivityL1(name: name, lambda: lambda, shape: input)]
    }
}

public final class ActivityL1: Layer {
    public let name: String
    public let lambda: Float
    public let inputShape: [Int]
    public var kind: String { "activity" }
    public var outputShape: [Int] { inputShape }
    public var parameters: [Parameter] { [] }
    public var state: [LayerState] { [] }
    /// The last step's input and its whole batch's size.
    private var input = Tensor(zeros: [0])
    private var batch = 1

    init(name: String, lambda: Float, shape: [Int]) {
        self.name = name
        self.lambda = lambda
        inputShape = shape
    }

    public func replica(on _: [Parameter]) -> Layer { ActivityL1(name: name, lambda: lambda, shape: inputShape) }
    public var multiplyAdds: Int { 0 }
    /// The gradient passed back (its input is the layer before's output).
    public var trainingFloatsPerSample: Int { outputSize }
    public var unsharedParameters: Int { 0 }

    public func forward(_ x: Tensor, training: Bool) -> Tensor { x }

    public func forward(_ x: Tensor, step: StepContext) -> Tensor {
        input = x
        batch = step.batch
        var sum = 0.0
        x.storage.withUnsafeBufferPointer { v in for value in v { sum += Double(abs(value)) } }
        step.penalty += Double(lambda) * sum
        return x
    }

    /// dy plus λ·sign(a) ÷ batch.
    public func backward(_ dy: Tensor) -> Tensor {
        let scale = lambda / Float(batch)
        return Tensor(shape: dy.shape) { out in
            dy.storage.withUnsafeBufferPointer { g in
                input.storage.withUnsafeBufferPointer { a in
                    for i in 0..<out.count { out[i] = g[i] + (a[i] > 0 ? scale : (a[i] < 0 ? -scale : 0)) }
                }
            }
        }
    }
}
