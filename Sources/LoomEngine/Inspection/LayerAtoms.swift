/// A dense layer's weights as pictures of the model's input, the way a
/// dictionary's atoms are drawn (`show atoms M.LAYER`): an encoder's rows
/// (each unit's weights from the input) or a decoder's columns (each of its
/// inputs' weights to an output of the input's shape). A tied decoder's
/// atoms are its encoder's, which is what tying means.
public struct LayerAtoms: Sendable, Equatable {
    public enum Role: Sendable, Equatable {
        /// On the model's input: an atom per unit, its weights from every input value.
        case encoder
        /// Outputs of the input's size: an atom per input of the layer, its weights to every output.
        case decoder
    }

    public let role: Role
    public let count: Int
    /// Values per atom: the model's input size.
    public let length: Int
    /// `count × length`, an atom a row.
    public let values: [Float]
}

extension Sequential {
    /// `block`'s atoms (see `LayerAtoms`): as an encoder when its inputs are
    /// the model's input values, else as a decoder when its outputs are as
    /// many. A layer with both (a complete autoencoder's decoder, its code as
    /// wide as the input) is an encoder only when no earlier layer has weights.
    /// Throws, naming the layer and its sizes, for a layer other than dense or
    /// one neither on the input nor of its size.
    public func atoms(of block: Block) throws(ShapeError) -> LayerAtoms {
        guard let dense = block.main as? Dense else {
            throw ShapeError("\(block.name) is a \(block.main.kind) layer; atoms are a dense layer's weights")
        }
        let inputs = dense.inputShape.reduce(1, *), units = dense.outputShape.reduce(1, *)
        let size = inputShape.reduce(1, *)
        guard dense.inputShape.count == 1 else {
            throw ShapeError("\(block.name) acts on each step of a sequence; atoms are drawn for a dense layer on flat inputs")
        }
        // The kernel as the layer uses it, [inputs, units]: a tied layer's is stored the other way round.
        let stored = dense.weight.value.storage
        func weight(_ i: Int, _ u: Int) -> Float { dense.transposesKernel ? stored[u * inputs + i] : stored[i * units + u] }
        let onInput = blocks.prefix { $0.name != block.name }.allSatisfy { $0.parameters.isEmpty }
        if inputs == size && (units != size || onInput) {
            let values = (0..<units).flatMap { u in (0..<inputs).map { weight($0, u) } }
            return LayerAtoms(role: .encoder, count: units, length: inputs, values: values)
        }
        if units == size {
            let values = (0..<inputs).flatMap { i in (0..<units).map { weight(i, $0) } }
            return LayerAtoms(role: .decoder, count: inputs, length: units, values: values)
        }
        throw ShapeError("\(block.name) maps \(inputs) values to \(units), and the input has \(size): atoms are drawn for a "
                         + "layer on the input (an encoder) or one whose outputs have the input's size (a decoder)")
    }
}
