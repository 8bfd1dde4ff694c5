/// Values a layer updates itself, outside its parameters, that change what
/// it outputs (k-winners' duty cycles): never stepped by the optimizer,
/// counted or pruned, but saved, loaded and copied with the weights under
/// `BLOCK.NAME` (see `Sequential.namedState`), so a copy or a loaded model
/// computes exactly what the original does.
///
/// A layer and its replicas hold the same object, so what the model's layer
/// folds in after a step (`Layer.finishStep`) every shard reads.
public final class LayerState {
    public let name: String
    public var value: Tensor
    /// The values a consistent state holds; `load` refuses others.
    public let valid: ClosedRange<Float>

    public init(name: String, value: Tensor, valid: ClosedRange<Float>) {
        self.name = name
        self.value = value
        self.valid = valid
    }
}
