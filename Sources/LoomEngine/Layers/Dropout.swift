/// `dropout RATE`.
public struct DropoutSpec: LayerSpec, Equatable {
    public var rate: Float
    public init(rate: Float) { self.rate = rate }
    public var blockPrefix: String { "dropout" }
    public func parameterCount(input: [Int]) throws(ShapeError) -> Int { 0 }
    public func build(name: String, input: [Int], random: inout RandomGenerator) throws(ShapeError) -> [Layer] {
        [try Dropout(name: name, rate: rate, input: input, random: &random)]
    }
}

extension LayerSpec where Self == DropoutSpec {
    public static func dropout(rate: Float) -> DropoutSpec { DropoutSpec(rate: rate) }
}

/// Inverted dropout, as Keras: in training each unit is zeroed with
/// probability `rate` and the rest scaled by 1/(1 − rate); at inference the
/// layer passes its input through.
public final class Dropout: Layer {
    public let name: String
    public let kind = "dropout"
    public let rate: Float
    public let inputShape: [Int]
    public var outputShape: [Int] { inputShape }
    public var parameters: [Parameter] { [] }
    public var state: [LayerState] { [] }
    private var mask: [Float] = []
    /// Draws come from the model's generator, so runs repeat.
    var random: RandomGenerator

    public init(name: String, rate: Float, input: [Int], random: inout RandomGenerator) throws(ShapeError) {
        guard rate >= 0, rate < 1 else { throw ShapeError("dropout rate must be in [0, 1), not \(rate)") }
        self.name = name
        self.rate = rate
        inputShape = input
        self.random = RandomGenerator(seed: random.next())
    }

    private init(replicating other: Dropout) {
        name = other.name
        rate = other.rate
        inputShape = other.inputShape
        random = RandomGenerator(seed: other.random.next())
    }

    /// Draws its own masks, from a generator seeded by this layer's.
    public func replica(on _: [Parameter]) -> Layer { Dropout(replicating: self) }

    /// The generator after the shard's masks: the rank that drew them hands
    /// it over, so every rank seeds the same replicas from it later.
    public var stepRecord: [Int] {
        get { random.state.map { Int(truncatingIfNeeded: $0) } }
        set { random.state = newValue.map { UInt64(truncatingIfNeeded: $0) } }
    }

    public var multiplyAdds: Int { 0 }
    /// Its output, its mask and the gradient passed back.
    public var trainingFloatsPerSample: Int { outputSize * 3 }
    public var unsharedParameters: Int { 0 }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        guard training, rate > 0 else { return x }
        let keep = 1 - rate
        mask = (0..<x.count).map { _ in random.nextUnitFloat() < keep ? 1 / keep : 0 }
        return masked(x)
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard rate > 0 else { return dy }
        return masked(dy)
    }

    /// `t` times the last mask, element by element.
    private func masked(_ t: Tensor) -> Tensor {
        Tensor(shape: t.shape) { out in
            t.storage.withUnsafeBufferPointer { v in
                mask.withUnsafeBufferPointer { m in for i in 0..<out.count { out[i] = v[i] * m[i] } }
            }
        }
    }
}
