/// A model's weights as named tensors, the part of a saved model the
/// safetensors file holds (the definition that rebuilds the layers, and with
/// them any sharing, travels in its metadata).
extension Sequential {
    /// Every parameter once, named for the block that stores it
    /// (`dense1.kernel`), in the model's order: a parameter another block
    /// shares or ties to is named for its first block alone.
    public var namedParameters: [(name: String, parameter: Parameter)] {
        blocks.flatMap { block in block.ownParameters.map { ("\(block.name).\($0.name)", $0) } }
    }

    /// The weights to save: each parameter once under its name, and a mask
    /// as `NAME.mask` right after its weights. A model that shares nothing
    /// gives one tensor per parameter of every block, as it always has.
    public var weightTensors: [(name: String, tensor: Tensor)] {
        var tensors: [(name: String, tensor: Tensor)] = []
        for (name, p) in namedParameters {
            tensors.append((name, p.value))
            if let mask = p.mask { tensors.append(("\(name).mask", Tensor(shape: p.value.shape, storage: mask))) }
        }
        return tensors
    }

    /// Sets the weights and masks from tensors named as `weightTensors`
    /// names them. Each parameter is read once, so blocks that share it
    /// share the loaded values. Throws, naming `source` and the tensor, when
    /// one is missing or has the wrong shape, or a mask holds other than 0s
    /// and 1s; tensors the model does not use are ignored.
    public func load(weights tensors: [String: Tensor], source: String) throws(DataError) {
        for (name, p) in namedParameters {
            guard let tensor = tensors[name] else { throw DataError("\(source) has no tensor \(name)") }
            guard tensor.shape == p.value.shape else {
                throw DataError("\(source): \(name) is \(Shape.text(tensor.shape)), the layer needs \(Shape.text(p.value.shape))")
            }
            p.value = tensor
            if let mask = tensors[name + ".mask"] {
                guard mask.shape == tensor.shape, mask.storage.allSatisfy({ $0 == 0 || $0 == 1 }) else {
                    throw DataError("\(source): \(name).mask must be 0s and 1s of \(Shape.text(tensor.shape))")
                }
                try? p.setMask(mask.storage)
            }
            p.markChanged()
        }
    }
}
