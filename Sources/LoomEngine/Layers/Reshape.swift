/// `reshape DIMS`: each sample's values, in the same order, in a new shape
/// (a flat `dense 784 sigmoid` output back into a 28x28x1 image).
public struct ReshapeSpec: LayerSpec, Equatable {
    public var shape: [Int]
    public init(shape: [Int]) { self.shape = shape }

    public var blockPrefix: String { "reshape" }
    public func parameterCount(input: [Int]) throws(ShapeError) -> Int { 0 }

    /// Throws, naming both counts, unless the new shape holds as many values as `input`.
    public func build(name: String, input: [Int], random: inout RandomGenerator) throws(ShapeError) -> [Layer] {
        guard !shape.isEmpty, shape.allSatisfy({ $0 > 0 }), let count = Shape.count(shape) else {
            throw ShapeError("reshape needs positive dimensions, not \(Shape.text(shape))")
        }
        let inputCount = Shape.count(input) ?? 0
        guard count == inputCount else {
            throw ShapeError("reshape \(Shape.text(shape)) holds \(count) values but its input, \(Shape.text(input)), "
                             + "has \(inputCount)")
        }
        return [Reshape(name: name, input: input, output: shape)]
    }
}

extension LayerSpec where Self == ReshapeSpec {
    public static func reshape(_ shape: [Int]) -> ReshapeSpec { ReshapeSpec(shape: shape) }
}

/// A layer that only gives its input a new shape: every value passes
/// through unchanged and in order (`flatten`, `reshape`). A loss fused with
/// the activation before such layers looks past them.
public protocol ReshapingLayer: Layer {}

/// Gives each sample a new shape; the values are the input's, shared, not
/// copied (a tensor's storage is copied only when written).
///
/// Shapes: `[batch, …input]` → `[batch, …output]`, and back in `backward`.
public final class Reshape: ReshapingLayer {
    public let name: String
    public let kind = "reshape"
    public let inputShape: [Int]
    public let outputShape: [Int]
    public var parameters: [Parameter] { [] }
    public var state: [LayerState] { [] }

    public init(name: String, input: [Int], output: [Int]) {
        self.name = name
        inputShape = input
        outputShape = output
    }

    public func replica(on _: [Parameter]) -> Layer { Reshape(name: name, input: inputShape, output: outputShape) }
    public var multiplyAdds: Int { 0 }
    /// A view: no values of its own.
    public var trainingFloatsPerSample: Int { 0 }
    public var unsharedParameters: Int { 0 }

    public func forward(_ x: Tensor, training: Bool) -> Tensor { x.reshaped([x.batch] + outputShape) }
    public func backward(_ dy: Tensor) -> Tensor { dy.reshaped([dy.batch] + inputShape) }
}
