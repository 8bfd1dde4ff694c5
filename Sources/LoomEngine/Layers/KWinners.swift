#if canImport(Glibc)
import Glibc
#endif

/// `kwta K|K% [boost B] [inference K|K%] [global]`: k winners take all
/// (Numenta's k-winners, "How Can We Be So Dense", Ahmad and Scheinkman
/// 2019). Each group keeps its k largest values and zeroes the rest: a dense
/// layer's output is one group; an image's `[H, W, C]` is a group per
/// location over its channels, or one group with `global`. Ties go to the
/// lower index. With boosting, units that have won less than their share
/// (k ÷ group, tracked as a duty cycle over the last 1,000 samples) are
/// favoured: winners are chosen on `x·exp(B·(share − duty))`, and the
/// unboosted values are passed on. `inference` sets a looser k for
/// evaluation and prediction.
public struct KWinnersSpec: LayerSpec, Equatable {
    /// How many winners: a count, or a share of the group.
    public enum Count: Sendable, Equatable {
        case units(Int)
        case share(Double)

        func resolved(group: Int) -> Int {
            switch self {
            case .units(let k): return max(1, min(k, group))
            // At most the share: ⌊f·n⌋ winners (at least one), so `kwta 10%` leaves ≥ 90% zeros.
            case .share(let f): return max(1, min(group, Int((f * Double(group) + 1e-9).rounded(.down))))
            }
        }
    }

    public var k: Count
    public var boost: Float
    public var inference: Count?
    public var global: Bool

    public init(k: Count, boost: Float = 0, inference: Count? = nil, global: Bool = false) {
        self.k = k
        self.boost = boost
        self.inference = inference
        self.global = global
    }

    public var blockPrefix: String { "kwta" }
    public func parameterCount(input: [Int]) throws(ShapeError) -> Int { 0 }

    public func build(name: String, input: [Int], random: inout RandomGenerator) throws(ShapeError) -> [Layer] {
        guard input.count == 1 || input.count == 3 else {
            throw ShapeError("kwta needs a flat input or height×width×channels, not \(Shape.text(input))")
        }
        guard boost >= 0, boost.isFinite else { throw ShapeError("kwta's boost must be 0 or more") }
        return [KWinners(name: name, spec: self, shape: input)]
    }
}

public final class KWinners: Layer {
    public let name: String
    public let spec: KWinnersSpec
    public let inputShape: [Int]
    public var kind: String { "kwta" }
    public var outputShape: [Int] { inputShape }
    public var parameters: [Parameter] { [] }

    /// Units whose duty cycles are tracked: a flat input's units, an image's channels.
    public var units: Int { inputShape.last! }
    /// Values per group, and winners per group in training and at inference.
    public var group: Int { spec.global || inputShape.count == 1 ? inputShape.reduce(1, *) : inputShape.last! }
    public var k: Int { spec.k.resolved(group: group) }
    public var inferenceK: Int { (spec.inference ?? spec.k).resolved(group: group) }

    /// How often each unit won, over the last `period` samples, and how many
    /// samples that is (up to `period`): the layer's state (`Layer.state`),
    /// shared with the replicas, updated once per step (`finishStep`).
    let duty: LayerState
    let samples: LayerState
    public static let period = 1000
    public var state: [LayerState] { [duty, samples] }
    public var dutyCycles: [Float] { duty.value.storage }
    /// The duty cycles and their entropy, for `show activations`.
    public var dutyCycleSummary: DutyCycleSummary? { DutyCycleSummary(dutyCycles: dutyCycles, k: k, group: group) }

    /// The last training batch's winners (1 or 0 per value), and how many
    /// times each unit won in it.
    private var winners: [Float] = []
    private var wins: [Int] = []
    private var batch = 0

    init(name: String, spec: KWinnersSpec, shape: [Int]) {
        self.name = name
        self.spec = spec
        inputShape = shape
        duty = LayerState(name: "duty_cycles", value: Tensor(zeros: [shape.last!]), valid: 0...1)
        samples = LayerState(name: "duty_samples", value: Tensor(zeros: [1]), valid: 0...Float(KWinners.period))
    }

    private init(replicating other: KWinners) {
        name = other.name
        spec = other.spec
        inputShape = other.inputShape
        duty = other.duty
        samples = other.samples
    }

    public func replica(on _: [Parameter]) -> Layer { KWinners(replicating: self) }
    public var multiplyAdds: Int { 0 }
    /// Its output, the winners kept for backward and the gradient passed back.
    public var trainingFloatsPerSample: Int { outputSize * 3 }
    public var unsharedParameters: Int { 0 }

    /// exp(B·(share − duty)) per unit; all 1 without boosting.
    public var boostFactors: [Float] {
        guard spec.boost > 0 else { return [Float](repeating: 1, count: units) }
        let share = Float(k) / Float(group)
        return duty.value.storage.map { expf(spec.boost * (share - $0)) }
    }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let keep = training ? k : inferenceK
        let boost = boostFactors, u = units, g = group
        var mask = [Float](repeating: 0, count: x.count)
        var order = [Int](repeating: 0, count: g)
        var scores = [Float](repeating: 0, count: g)
        if training { wins = [Int](repeating: 0, count: u) }
        x.storage.withUnsafeBufferPointer { v in
            for start in stride(from: 0, to: x.count, by: g) {
                for i in 0..<g {
                    order[i] = i
                    scores[i] = v[start + i] * boost[(start + i) % u]
                }
                // The k largest scores; equal scores go to the lower index.
                order.sort { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
                for i in order.prefix(keep) {
                    mask[start + i] = 1
                    if training { wins[(start + i) % u] += 1 }
                }
            }
        }
        if training {
            winners = mask
            batch = x.batch
        }
        return Tensor(shape: x.shape) { out in
            x.storage.withUnsafeBufferPointer { v in for i in 0..<out.count { out[i] = v[i] * mask[i] } }
        }
    }

    public func backward(_ dy: Tensor) -> Tensor {
        Tensor(shape: dy.shape) { out in
            dy.storage.withUnsafeBufferPointer { g in for i in 0..<out.count { out[i] = g[i] * winners[i] } }
        }
    }

    /// The last batch's size, then its wins per unit (zeros before any).
    public var stepRecord: [Int] {
        get { [batch] + (wins.isEmpty ? [Int](repeating: 0, count: units) : wins) }
        set {
            batch = newValue[0]
            wins = Array(newValue.dropFirst())
        }
    }

    /// Numenta's update over the shards' samples together:
    /// duty ← (duty·(period − n) + wins ÷ appearances) ÷ period, where a
    /// unit appears once per sample in a dense output and once per location
    /// in an image, and the period grows to 1,000 samples from the start. A
    /// batch larger than the period is the period (each duty cycle stays a
    /// share, at most 1).
    public func finishStep(shards: [Layer]) {
        let all = shards.compactMap { $0 as? KWinners }
        let n = all.reduce(0) { $0 + $1.batch }
        guard n > 0 else { return }
        // Whole numbers up to 1,000 plus a batch: exact in a Float.
        let seen = min(samples.value.storage[0] + Float(n), Float(KWinners.period))
        samples.value.storage[0] = seen
        let period = max(seen, Float(n))
        let appearances = Float(inputShape.reduce(1, *) / units)
        var values = duty.value.storage
        for j in 0..<units {
            let won = Float(all.reduce(0) { $0 + $1.wins[j] })
            values[j] = (values[j] * max(0, period - Float(n)) + won / appearances) / period
        }
        duty.value.storage = values
        for layer in all { layer.batch = 0 }
    }
}
