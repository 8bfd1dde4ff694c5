/// One step of a sequential model. Forward and backward live together in each
/// layer; `backward` takes the gradient of the loss with respect to the
/// layer's output and returns it with respect to the input, adding the
/// gradients of the layer's parameters into `Parameter.gradient`.
///
/// Shapes are batch-first; `outputShape` is per sample. What a layer costs
/// has no default: each declares its multiply-adds, its training memory and
/// what it would store without sharing, so a new layer cannot inherit a
/// figure that undercounts it. What a layer shows in reports is its
/// `ReportFacts`.
public protocol Layer: AnyObject, ReportFacts {
    var name: String { get }
    var kind: String { get }
    var inputShape: [Int] { get }
    var outputShape: [Int] { get }
    var parameters: [Parameter] { get }
    /// What the layer updates itself beyond its parameters and which changes
    /// its outputs (see `LayerState`); empty for most layers. No default, so
    /// a layer that keeps such state cannot leave it out of `save` and `copy`.
    var state: [LayerState] { get }
    func forward(_ input: Tensor, training: Bool) -> Tensor
    /// The training forward pass, with the step a layer may add a penalty
    /// to; by default `forward(input, training: true)`.
    func forward(_ input: Tensor, step: StepContext) -> Tensor
    func backward(_ outputGradient: Tensor) -> Tensor
    /// Backward without the input's gradient, which a model's first layer
    /// does not need: only the parameters' gradients are added.
    func addParameterGradients(_ outputGradient: Tensor)
    /// Multiply-adds for one sample's forward pass.
    var multiplyAdds: Int { get }
    /// Floats one training sample occupies in this layer: its output, the
    /// gradient it passes back and whatever backward keeps.
    var trainingFloatsPerSample: Int { get }
    /// The weights the same connections would need without sharing (a
    /// convolution's filters copied to every position, a recurrent cell's
    /// weights to every step); the stored count for a layer that shares none.
    var unsharedParameters: Int { get }
    /// The same layer with its own caches, on `parameters` instead of its
    /// own: one for each of `self.parameters`, in that order and of the same
    /// shapes. A model's replica passes each parameter's `Parameter.replica`
    /// (training runs shards of a batch through replicas side by side); a
    /// block that shares another's weights passes that block's very objects.
    func replica(on parameters: [Parameter]) -> Layer
    /// After a training step, on the model's layer: `shards` holds this
    /// layer and its replicas' copies, in shard order, so state that follows
    /// the batch (k-winners' duty cycles) folds in what every shard saw.
    func finishStep(shards: [Layer])
    /// What a shard's step leaves in this layer beside the gradients, for
    /// the rank that computed the shard to hand to the others: k-winners'
    /// batch and wins (`finishStep` folds them in), dropout's generator (it
    /// drew the shard's masks and draws the next). Of a length fixed by the
    /// layer's shape; empty for most layers.
    var stepRecord: [Int] { get set }
    /// The fewest samples per training shard that keep this layer's products
    /// efficient (a recurrent layer runs a small product per step, so wants
    /// more rows than a convolution). The model's largest decides, so how a
    /// batch is sharded still depends only on the model and the batch.
    var minimumShard: Int { get }
}

extension Layer {
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }
    public func addParameterGradients(_ outputGradient: Tensor) { _ = backward(outputGradient) }
    public func forward(_ input: Tensor, step: StepContext) -> Tensor { forward(input, training: true) }
    public func finishStep(shards: [Layer]) {}
    public var stepRecord: [Int] {
        get { [] }
        set {}
    }
    public var minimumShard: Int { 8 }
    /// Values in one sample's output.
    public var outputSize: Int { outputShape.reduce(1, *) }
}

/// Why a layer cannot be built on its input.
public struct ShapeError: Error, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
