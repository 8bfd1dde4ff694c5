/// `batchnorm [momentum M] [epsilon E]`: each feature (the last axis: a
/// vector's values, a step's or a pixel's channels) normalised over the
/// batch while training, and over the moving mean and variance when
/// evaluating and predicting, then scaled and shifted — Keras's
/// `BatchNormalization(axis=-1)`, with its defaults (momentum 0.99, epsilon
/// 0.001) and its four weights (`gamma`, `beta`, `moving_mean`,
/// `moving_variance`), saved under those names.
public struct BatchNormSpec: LayerSpec, Equatable {
    public var momentum: Float
    public var epsilon: Float

    public init(momentum: Float = 0.99, epsilon: Float = 0.001) {
        self.momentum = momentum
        self.epsilon = epsilon
    }

    public var blockPrefix: String { "batchnorm" }

    public func parameterCount(input: [Int]) throws(ShapeError) -> Int {
        guard let features = input.last, let count = Shape.count([4, features]) else { throw ShapeError("the layer is too large to build") }
        return count
    }

    public func build(name: String, input: [Int], random: inout RandomGenerator) throws(ShapeError) -> [Layer] {
        guard epsilon > 0, epsilon.isFinite else { throw ShapeError("batchnorm takes an epsilon above 0, not \(epsilon)") }
        guard momentum >= 0, momentum < 1 else { throw ShapeError("batchnorm takes a momentum from 0 to below 1, not \(momentum)") }
        let features = input.last!
        return [BatchNorm(name: name, shape: input, spec: self, scale: FeatureScale(features: features),
                          movingMean: Parameter(name: "moving_mean", value: Tensor(zeros: [features]), trainable: false),
                          movingVariance: Parameter(name: "moving_variance", value: Tensor(shape: [features], repeating: 1),
                                                    trainable: false))]
    }
}

/// Per feature c over the batch's rows (samples, and their steps or pixels):
/// x̂ = (x − μ_c)/√(σ_c² + ε) with the batch's mean and biased variance,
/// y = γ·x̂ + β. Backward over the M rows: dx = (1/σ̃)·(dx̂ − mean(dx̂) −
/// x̂·mean(dx̂·x̂)), dx̂ = dy·γ. After each training step the moving figures
/// take the batch's: m ← m·momentum + batch·(1 − momentum), as Keras does.
public final class BatchNorm: Layer {
    public let name: String
    public let kind = "batchnorm"
    public let inputShape: [Int]
    public var outputShape: [Int] { inputShape }
    public let spec: BatchNormSpec
    let scale: FeatureScale
    public let movingMean: Parameter
    public let movingVariance: Parameter
    /// The last training batch: x̂, each feature's 1/σ̃, mean and variance, and its rows.
    private var xhat = Tensor(zeros: [0])
    private var inverseDeviations: [Float] = []
    private var batchMean: [Float] = []
    private var batchVariance: [Float] = []
    private var batchRows = 0

    init(name: String, shape: [Int], spec: BatchNormSpec, scale: FeatureScale, movingMean: Parameter, movingVariance: Parameter) {
        self.name = name
        inputShape = shape
        self.spec = spec
        self.scale = scale
        self.movingMean = movingMean
        self.movingVariance = movingVariance
    }

    public func replica(on parameters: [Parameter]) -> Layer {
        BatchNorm(name: name, shape: inputShape, spec: spec, scale: FeatureScale(gamma: parameters[0], beta: parameters[1]),
                  movingMean: parameters[2], movingVariance: parameters[3])
    }

    public var parameters: [Parameter] { [scale.gamma, scale.beta, movingMean, movingVariance] }
    public var state: [LayerState] { [] }
    var features: Int { inputShape.last! }
    /// The normalisation and the scale at inference: two per value.
    public var multiplyAdds: Int { 2 * outputSize }
    /// Its output, x̂ and the gradient passed back.
    public var trainingFloatsPerSample: Int { outputSize * 3 }
    /// The same four figures at every position (step or pixel): unshared, a copy per position.
    public var unsharedParameters: Int { outputSize / features * parameterCount }
    /// Statistics over the whole batch, as Keras takes them: the batch is
    /// never split into shards.
    public var minimumShard: Int { Int.max }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let f = features, rows = x.count / max(1, f)
        var mean: [Float], inverse = [Float](repeating: 0, count: f)
        if training {
            (mean, batchVariance) = statistics(x, rows: rows)
            for j in 0..<f { inverse[j] = 1 / (batchVariance[j] + spec.epsilon).squareRoot() }
        } else {
            mean = movingMean.value.storage
            for j in 0..<f { inverse[j] = 1 / (movingVariance.value[j] + spec.epsilon).squareRoot() }
        }
        let normalised = Tensor(shape: x.shape) { out in
            x.storage.withUnsafeBufferPointer { v in
                for r in 0..<rows {
                    for j in 0..<f { out[r * f + j] = (v[r * f + j] - mean[j]) * inverse[j] }
                }
            }
        }
        if training {
            xhat = normalised
            inverseDeviations = inverse
            batchMean = mean
            batchRows = rows
        }
        return Tensor(shape: x.shape) { y in
            normalised.storage.withUnsafeBufferPointer { scale.apply($0.baseAddress!, count: x.count, into: y.baseAddress!) }
        }
    }

    /// Each feature's mean and biased variance over `rows`.
    private func statistics(_ x: Tensor, rows: Int) -> (mean: [Float], variance: [Float]) {
        let f = features
        var mean = [Float](repeating: 0, count: f), variance = [Float](repeating: 0, count: f)
        x.storage.withUnsafeBufferPointer { v in
            for r in 0..<rows { for j in 0..<f { mean[j] += v[r * f + j] } }
            for j in 0..<f { mean[j] /= Float(max(1, rows)) }
            for r in 0..<rows {
                for j in 0..<f {
                    let d = v[r * f + j] - mean[j]
                    variance[j] += d * d
                }
            }
            for j in 0..<f { variance[j] /= Float(max(1, rows)) }
        }
        return (mean, variance)
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let f = features, rows = dy.count / max(1, f)
        return Tensor(shape: dy.shape) { dx in
            dy.storage.withUnsafeBufferPointer { g in
                xhat.storage.withUnsafeBufferPointer { h in
                    // dx̂ first, in dx's own memory; then each feature's sums, then dx in place.
                    scale.backward(g.baseAddress!, xhat: h.baseAddress!, count: dy.count, dxhat: dx.baseAddress!)
                    var sum = [Float](repeating: 0, count: f), dot = [Float](repeating: 0, count: f)
                    for r in 0..<rows {
                        for j in 0..<f {
                            sum[j] += dx[r * f + j]
                            dot[j] += dx[r * f + j] * h[r * f + j]
                        }
                    }
                    let n = Float(max(1, rows))
                    for r in 0..<rows {
                        for j in 0..<f {
                            let i = r * f + j
                            dx[i] = inverseDeviations[j] * (dx[i] - sum[j] / n - h[i] * dot[j] / n)
                        }
                    }
                }
            }
        }
    }

    /// The moving mean and variance take the step's batch (one shard: see
    /// `minimumShard`); a batch whose figures are not finite leaves them.
    public func finishStep(shards: [Layer]) {
        guard batchRows > 0, batchMean.allSatisfy(\.isFinite), batchVariance.allSatisfy(\.isFinite) else { return }
        let m = spec.momentum
        for j in 0..<features {
            movingMean.value[j] = movingMean.value[j] * m + batchMean[j] * (1 - m)
            movingVariance.value[j] = movingVariance.value[j] * m + batchVariance[j] * (1 - m)
        }
        movingMean.markChanged()
        movingVariance.markChanged()
        batchRows = 0
    }
}
