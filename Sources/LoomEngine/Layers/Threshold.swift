/// `threshold EPS`: the thresholding network's sparse activation, `a = z` where `|z| ≥ ε`
/// and 0 elsewhere; the gradient passes where a unit is kept.
public struct ThresholdSpec: LayerSpec, Equatable {
    public var epsilon: Float
    public init(epsilon: Float) { self.epsilon = epsilon }
    public var blockPrefix: String { "threshold" }
    public func parameterCount(input: [Int]) throws(ShapeError) -> Int { 0 }
    public func build(name: String, input: [Int], random: inout RandomGenerator) throws(ShapeError) -> [Layer] {
        guard epsilon >= 0, epsilon.isFinite else { throw ShapeError("threshold takes a cut-off of 0 or more, not \(epsilon)") }
        return [Threshold(name: name, epsilon: epsilon, shape: input)]
    }
}

public final class Threshold: Layer {
    public let name: String
    public let epsilon: Float
    public let inputShape: [Int]
    public var kind: String { "threshold" }
    public var outputShape: [Int] { inputShape }
    public var parameters: [Parameter] { [] }
    public var state: [LayerState] { [] }
    /// The last training batch's output, whose nonzeros say where the gradient passes.
    private var kept = Tensor(zeros: [0])

    init(name: String, epsilon: Float, shape: [Int]) {
        self.name = name
        self.epsilon = epsilon
        inputShape = shape
    }

    public func replica(on _: [Parameter]) -> Layer { Threshold(name: name, epsilon: epsilon, shape: inputShape) }
    public var multiplyAdds: Int { 0 }
    /// Its output (kept for backward) and the gradient passed back.
    public var trainingFloatsPerSample: Int { outputSize * 2 }
    public var unsharedParameters: Int { 0 }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let eps = epsilon
        let y = Tensor(shape: x.shape) { out in
            x.storage.withUnsafeBufferPointer { v in for i in 0..<out.count { out[i] = abs(v[i]) >= eps ? v[i] : 0 } }
        }
        if training { kept = y }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let eps = epsilon
        return Tensor(shape: dy.shape) { out in
            dy.storage.withUnsafeBufferPointer { g in
                kept.storage.withUnsafeBufferPointer { y in
                    // A kept unit has |y| = |z| ≥ ε, a dropped one y = 0 < ε (with ε = 0 all are kept).
                    for i in 0..<out.count { out[i] = abs(y[i]) >= eps ? g[i] : 0 }
                }
            }
        }
    }
}
