
/// `layernorm [epsilon E]`: each sample's features (the last axis: a
/// vector's values, a step's or a pixel's channels) normalised to mean 0 and
/// variance 1, then scaled and shifted per feature — Keras's
/// `LayerNormalization(axis=-1)` with its default epsilon, 0.001.
public struct LayerNormSpec: LayerSpec, Equatable {
    public var epsilon: Float

    public init(epsilon: Float = 0.001) { self.epsilon = epsilon }

    public var blockPrefix: String { "layernorm" }

    public func parameterCount(input: [Int]) throws(ShapeError) -> Int {
        guard let features = input.last, let count = Shape.count([2, features]) else { throw ShapeError("the layer is too large to build") }
        return count
    }

    public func build(name: String, input: [Int], random: inout RandomGenerator) throws(ShapeError) -> [Layer] {
        guard epsilon > 0, epsilon.isFinite else { throw ShapeError("layernorm takes an epsilon above 0, not \(epsilon)") }
        guard let features = input.last, features > 1 else {
            throw ShapeError("layernorm needs at least two features on its last axis, not \(Shape.text(input))")
        }
        return [LayerNorm(name: name, shape: input, epsilon: epsilon, scale: FeatureScale(features: features))]
    }
}

/// Per row r of F features: x̂ = (x − μᵣ)/√(σᵣ² + ε) with the row's mean
/// and (biased) variance, y = γ·x̂ + β. Backward:
/// dx = (1/σ̃)·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)), dx̂ = dy·γ, σ̃ = √(σ² + ε).
public final class LayerNorm: Layer {
    public let name: String
    public let kind = "layernorm"
    public let inputShape: [Int]
    public var outputShape: [Int] { inputShape }
    public let epsilon: Float
    let scale: FeatureScale
    /// The last training batch's x̂ and each row's 1/σ̃, for backward.
    private var xhat = Tensor(zeros: [0])
    private var inverseDeviations: [Float] = []

    init(name: String, shape: [Int], epsilon: Float, scale: FeatureScale) {
        self.name = name
        inputShape = shape
        self.epsilon = epsilon
        self.scale = scale
    }

    public func replica(on parameters: [Parameter]) -> Layer {
        LayerNorm(name: name, shape: inputShape, epsilon: epsilon, scale: FeatureScale(gamma: parameters[0], beta: parameters[1]))
    }

    public var parameters: [Parameter] { [scale.gamma, scale.beta] }
    public var state: [LayerState] { [] }
    var features: Int { inputShape.last! }
    /// The mean, the variance, the normalisation and the scale: about four per value.
    public var multiplyAdds: Int { 4 * outputSize }
    /// Its output, x̂ and the gradient passed back.
    public var trainingFloatsPerSample: Int { outputSize * 3 }
    /// γ and β are the same at every position (step or pixel): unshared, a copy per position.
    public var unsharedParameters: Int { outputSize / features * parameterCount }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let f = features, rows = x.count / max(1, f)
        var inverse = [Float](repeating: 0, count: rows)
        let normalised = Tensor(shape: x.shape) { out in
            x.storage.withUnsafeBufferPointer { v in
                for r in 0..<rows {
                    let row = v.baseAddress! + r * f
                    var sum: Float = 0
                    for j in 0..<f { sum += row[j] }
                    let mean = sum / Float(f)
                    var squares: Float = 0
                    for j in 0..<f { squares += (row[j] - mean) * (row[j] - mean) }
                    let inv = 1 / (squares / Float(f) + epsilon).squareRoot()
                    for j in 0..<f { out[r * f + j] = (row[j] - mean) * inv }
                    inverse[r] = inv
                }
            }
        }
        if training {
            xhat = normalised
            inverseDeviations = inverse
        }
        return Tensor(shape: x.shape) { y in
            normalised.storage.withUnsafeBufferPointer { scale.apply($0.baseAddress!, count: x.count, into: y.baseAddress!) }
        }
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let f = features, n = Float(features)
        return Tensor(shape: dy.shape) { dx in
            dy.storage.withUnsafeBufferPointer { g in
                xhat.storage.withUnsafeBufferPointer { h in
                    // dx̂ first, in dx's own memory; then each row in place.
                    scale.backward(g.baseAddress!, xhat: h.baseAddress!, count: dy.count, dxhat: dx.baseAddress!)
                    for r in 0..<(dy.count / f) {
                        let d = dx.baseAddress! + r * f, xh = h.baseAddress! + r * f
                        var sum: Float = 0, dot: Float = 0
                        for j in 0..<f {
                            sum += d[j]
                            dot += d[j] * xh[j]
                        }
                        let (meanD, meanDX) = (sum / n, dot / n), inv = inverseDeviations[r]
                        for j in 0..<f { d[j] = inv * (d[j] - meanD - xh[j] * meanDX) }
                    }
                }
            }
        }
    }
}
