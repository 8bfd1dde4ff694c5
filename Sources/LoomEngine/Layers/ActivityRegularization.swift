#if canImport(Glibc)
import Glibc
#endif

/// The penalties `activity` puts on the previous layer's output.
public enum ActivityPenalty: String, CaseIterable, Sendable {
    /// λ·Σ|a|, as Keras's `ActivityRegularization(l1=λ)`.
    case l1
    /// β·Σⱼ KL(ρ‖ρ̂ⱼ), ρ̂ⱼ unit j's mean activation over the batch: the
    /// sparse autoencoder's penalty of Ng's UFLDL notes, for sigmoid units.
    case kl
}

/// `activity l1 LAMBDA [weight B]` or `activity kl RHO [weight B]`: a
/// penalty on the previous layer's output that pushes activity towards
/// zero (l1) or each unit's mean activation towards ρ (kl). The values pass
/// through unchanged; the loss gains the penalty (summed over the batch and
/// divided by its size, as the loss is), whose share is the training
/// table's `penalty` column.
public struct ActivitySpec: LayerSpec, Equatable {
    public var penalty: ActivityPenalty
    /// l1: λ, its weight; kl: ρ, the mean activation each unit is drawn to.
    public var amount: Float
    /// Multiplies the penalty (β for kl); 1 leaves l1's λ alone.
    public var weight: Float

    public init(penalty: ActivityPenalty, amount: Float, weight: Float = 1) {
        self.penalty = penalty
        self.amount = amount
        self.weight = weight
    }

    public var blockPrefix: String { "activity" }
    public func parameterCount(input: [Int]) throws(ShapeError) -> Int { 0 }
    public func build(name: String, input: [Int], random: inout RandomGenerator) throws(ShapeError) -> [Layer] {
        guard weight >= 0, weight.isFinite else { throw ShapeError("activity takes a weight of 0 or more, not \(weight)") }
        switch penalty {
        case .l1:
            guard amount >= 0, amount.isFinite else { throw ShapeError("activity l1 takes a weight of 0 or more, not \(amount)") }
        case .kl:
            guard amount > 0, amount < 1 else {
                throw ShapeError("activity kl takes the mean activation to draw each unit to, between 0 and 1 (0.05), not \(amount)")
            }
        }
        return [ActivityRegularization(name: name, spec: self, shape: input)]
    }
}

public final class ActivityRegularization: Layer {
    public let name: String
    public let spec: ActivitySpec
    public let inputShape: [Int]
    public var kind: String { "activity" }
    public var outputShape: [Int] { inputShape }
    public var parameters: [Parameter] { [] }
    public var state: [LayerState] { [] }
    /// l1: the last step's input; kl: each unit's gradient factor
    /// β/B·(−ρ/ρ̂ + (1−ρ)/(1−ρ̂)), the same for every sample.
    private var input = Tensor(zeros: [0])
    private var unitGradient: [Float] = []
    private var batch = 1

    /// Means are kept this far inside (0, 1), so the divergence stays finite.
    static let meanMargin = 1e-6

    init(name: String, spec: ActivitySpec, shape: [Int]) {
        self.name = name
        self.spec = spec
        inputShape = shape
    }

    public func replica(on _: [Parameter]) -> Layer { ActivityRegularization(name: name, spec: spec, shape: inputShape) }
    public var multiplyAdds: Int { 0 }
    /// The gradient passed back (its input is the layer before's output).
    public var trainingFloatsPerSample: Int { outputSize }
    public var unsharedParameters: Int { 0 }
    /// kl needs each unit's mean over the whole batch, so its batches are
    /// not split into shards.
    public var minimumShard: Int { spec.penalty == .kl ? Int.max : 8 }

    public func forward(_ x: Tensor, training: Bool) -> Tensor { x }

    public func forward(_ x: Tensor, step: StepContext) -> Tensor {
        batch = step.batch
        switch spec.penalty {
        case .l1:
            input = x
            var sum = 0.0
            x.storage.withUnsafeBufferPointer { v in for value in v { sum += Double(abs(value)) } }
            step.penalty += Double(spec.weight * spec.amount) * sum
        case .kl:
            let (divergence, gradient) = ActivityRegularization.divergence(x, rho: Double(spec.amount), weight: Double(spec.weight))
            // The batch's mean loss gains β·Σ KL: summed over the batch, that is B times it.
            step.penalty += Double(x.batch) * divergence
            unitGradient = gradient
        }
        return x
    }

    /// β·Σⱼ KL(ρ‖ρ̂ⱼ) over `x`'s units (each value of a sample), ρ̂ⱼ the
    /// batch's mean, and each unit's gradient of it per sample.
    static func divergence(_ x: Tensor, rho: Double, weight: Double) -> (Double, [Float]) {
        let rows = x.batch, units = x.sampleSize
        var means = [Double](repeating: 0, count: units)
        x.storage.withUnsafeBufferPointer { v in
            for i in 0..<rows { for j in 0..<units { means[j] += Double(v[i * units + j]) } }
        }
        var total = 0.0
        var gradient = [Float](repeating: 0, count: units)
        for j in 0..<units {
            let mean = min(max(means[j] / Double(max(rows, 1)), meanMargin), 1 - meanMargin)
            total += rho * log(rho / mean) + (1 - rho) * log((1 - rho) / (1 - mean))
            gradient[j] = Float(weight / Double(max(rows, 1)) * (-rho / mean + (1 - rho) / (1 - mean)))
        }
        return (weight * total, gradient)
    }

    /// dy plus the penalty's gradient ÷ batch: λ·sign(a) for l1, each
    /// unit's factor for kl (already per sample of the batch).
    public func backward(_ dy: Tensor) -> Tensor {
        switch spec.penalty {
        case .l1:
            let scale = spec.weight * spec.amount / Float(batch)
            return Tensor(shape: dy.shape) { out in
                dy.storage.withUnsafeBufferPointer { g in
                    input.storage.withUnsafeBufferPointer { a in
                        for i in 0..<out.count { out[i] = g[i] + (a[i] > 0 ? scale : (a[i] < 0 ? -scale : 0)) }
                    }
                }
            }
        case .kl:
            let units = unitGradient.count
            return Tensor(shape: dy.shape) { out in
                dy.storage.withUnsafeBufferPointer { g in
                    for i in 0..<out.count { out[i] = g[i] + unitGradient[i % units] }
                }
            }
        }
    }
}
