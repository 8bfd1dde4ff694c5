/// `flatten`: each sample as one vector.
public struct FlattenSpec: LayerSpec, Equatable {
    public init() {}
    public var blockPrefix: String { "flatten" }
    public func parameterCount(input: [Int]) throws(ShapeError) -> Int { 0 }
    public func build(name: String, input: [Int], random: inout RandomGenerator) throws(ShapeError) -> [Layer] {
        [Flatten(name: name, input: input)]
    }
}

extension LayerSpec where Self == FlattenSpec {
    public static var flatten: FlattenSpec { FlattenSpec() }
}

/// Flattens each sample to a vector.
public final class Flatten: ReshapingLayer {
    public let name: String
    public let kind = "flatten"
    public let inputShape: [Int]
    public var outputShape: [Int] { [inputShape.reduce(1, *)] }
    public var parameters: [Parameter] { [] }
    public var state: [LayerState] { [] }

    public init(name: String, input: [Int]) {
        self.name = name
        inputShape = input
    }

    public func replica(on _: [Parameter]) -> Layer { Flatten(name: name, input: inputShape) }
    public var multiplyAdds: Int { 0 }
    /// A reshape: no values of its own.
    public var trainingFloatsPerSample: Int { 0 }
    public var unsharedParameters: Int { 0 }

    public func forward(_ x: Tensor, training: Bool) -> Tensor { x.reshaped([x.batch] + outputShape) }
    public func backward(_ dy: Tensor) -> Tensor { dy.reshaped([dy.batch] + inputShape) }
}
