/// A model's weights and its layers' state as named tensors, the part of a
/// saved model the safetensors file holds (the definition that rebuilds the
/// layers, and with them any sharing, travels in its metadata). `save`,
/// `load` and `copy` all go through `weightTensors` and `load(weights:)`,
/// so they keep the same things.
extension Sequential {
    /// Every parameter once, named for the block that stores it
    /// (`dense1.kernel`), in the model's order: a parameter another block
    /// shares or ties to is named for its first block alone.
    public var namedParameters: [(name: String, parameter: Parameter)] {
        blocks.flatMap { block in block.ownParameters.map { ("\(block.name).\($0.name)", $0) } }
    }

    /// Every layer's state (`Layer.state`: k-winners' duty cycles), named
    /// for its block (`kwta1.duty_cycles`), in the model's order.
    public var namedState: [(name: String, state: LayerState)] {
        blocks.flatMap { block in block.layers.flatMap(\.state).map { ("\(block.name).\($0.name)", $0) } }
    }

    /// The weights to save: each parameter once under its name, a mask as
    /// `NAME.mask` right after its weights (and the N:M pattern it keeps as
    /// `NAME.nm`, the two numbers), clusters as `NAME.codebook` (the
    /// shared values) and `NAME.codes` (each weight's index into them, as
    /// floats of the weight's shape); then the layers' state. A model that
    /// shares nothing gives one tensor per parameter of every block, as it
    /// always has. `CompactWeights.pack` stores masked and clustered weights
    /// compactly.
    public var weightTensors: [(name: String, tensor: Tensor)] {
        var tensors: [(name: String, tensor: Tensor)] = []
        for (name, p) in namedParameters {
            tensors.append((name, p.value))
            if let mask = p.mask { tensors.append(("\(name).mask", Tensor(shape: p.value.shape, storage: mask))) }
            if let pattern = p.blockPattern {
                tensors.append(("\(name).\(Self.blockPatternSuffix)", Tensor(shape: [2], storage: [Float(pattern.kept), Float(pattern.block)])))
            }
            if let clusters = p.clusters {
                tensors.append(("\(name).codebook", Tensor(shape: [clusters.centroids.count], storage: clusters.centroids)))
                // A closure: `map(Float.init)` on UInt32 picks `Float(bitPattern:)`.
                tensors.append(("\(name).codes", Tensor(shape: p.value.shape, storage: clusters.assignment.map { Float($0) })))
            }
        }
        return tensors + namedState.map { ($0.name, $0.state.value) }
    }

    /// Takes the weights, masks and state of `other`, a model built from the
    /// same definition: exactly what saving `other` and loading it gives.
    public func load(weightsOf other: Sequential) throws(DataError) {
        try load(weights: Dictionary(other.weightTensors, uniquingKeysWith: { first, _ in first }), source: other.name)
    }

    /// The clusters `NAME.codebook` and `NAME.codes` give, nil when there
    /// are none; throws when either is missing or a code is not a whole
    /// number naming a centroid.
    private func clusters(named name: String, in tensors: [String: Tensor], shape: [Int], source: String) throws(DataError) -> WeightClusters? {
        let (codebook, codes) = (tensors[name + ".codebook"], tensors[name + ".codes"])
        guard codebook != nil || codes != nil else { return nil }
        guard let codebook, let codes, codebook.shape.count == 1, codebook.count >= 1, codes.shape == shape,
              codes.storage.allSatisfy({ $0 >= 0 && $0 < Float(codebook.count) && $0.rounded() == $0 }),
              let clusters = try? WeightClusters(centroids: codebook.storage, assignment: codes.storage.map { UInt32($0) })
        else {
            throw DataError("\(source): \(name).codebook must be a list of values and \(name).codes, of \(Shape.text(shape)), "
                            + "whole numbers indexing it")
        }
        return clusters
    }

    static let blockPatternSuffix = "nm"

    /// The N:M pattern `NAME.nm` gives (N and M), nil when there is none (as
    /// in files saved before patterns were kept); throws when it is not one.
    private func blockPattern(named name: String, in tensors: [String: Tensor], source: String) throws(DataError) -> BlockPattern? {
        let key = "\(name).\(Self.blockPatternSuffix)"
        guard let tensor = tensors[key] else { return nil }
        guard tensor.shape == [2], tensor.storage.allSatisfy({ $0.rounded() == $0 && abs($0) <= 1e6 }),
              let pattern = BlockPattern(kept: Int(tensor.storage[0]), block: Int(tensor.storage[1])) else {
            throw DataError("\(source): \(key) must be two whole numbers N and M with 1 ≤ N < M ≤ \(BlockPattern.largestBlock)")
        }
        return pattern
    }

    /// Sets the weights, masks and clusters from tensors named as
    /// `weightTensors` names them. Each parameter is read once, so blocks that share it
    /// share the loaded values. Throws, naming `source` and the tensor, when
    /// one is missing or has the wrong shape, or a mask holds other than 0s
    /// and 1s; tensors the model does not use are ignored. A layer's state
    /// missing from the file (saved before it was kept) stays as built.
    public func load(weights tensors: [String: Tensor], source: String) throws(DataError) {
        let tensors = Lista.upgradingThresholds(tensors, in: self)
        try checkSharing(of: tensors, source: source)
        for (name, p) in namedParameters {
            guard let tensor = tensors[name] else {
                let borrowed = sharingNote(name, in: tensors)
                throw DataError("\(source) has no tensor \(name)" + (borrowed.isEmpty ? "" : ": \(borrowed)"))
            }
            guard tensor.shape == p.value.shape else {
                throw DataError("\(source): \(name) is \(Shape.text(tensor.shape)), the layer needs \(Shape.text(p.value.shape))")
            }
            p.value = tensor
            if let mask = tensors[name + ".mask"] {
                guard mask.shape == tensor.shape, mask.storage.allSatisfy({ $0 == 0 || $0 == 1 }) else {
                    throw DataError("\(source): \(name).mask must be 0s and 1s of \(Shape.text(tensor.shape))")
                }
                let pattern = try blockPattern(named: name, in: tensors, source: source)
                try? p.setMask(mask.storage, blockPattern: pattern)
            } else if tensors["\(name).\(Self.blockPatternSuffix)"] != nil {
                throw DataError("\(source): \(name).\(Self.blockPatternSuffix) names an N:M pattern for a weight with no mask")
            }
            let clusters = try clusters(named: name, in: tensors, shape: tensor.shape, source: source)
            do { try p.setClusters(clusters) } catch { throw DataError("\(source): \(error.message)") }
            p.markChanged()
        }
        for (name, state) in namedState {
            guard let tensor = tensors[name] else { continue }
            guard tensor.shape == state.value.shape, tensor.storage.allSatisfy(state.valid.contains) else {
                throw DataError("\(source): \(name) must be \(Shape.text(state.value.shape)) values from "
                                + "\(state.valid.lowerBound) to \(state.valid.upperBound)")
            }
            state.value = tensor
        }
    }

    /// Throws when `tensors` hold a weight of their own for a parameter this
    /// model takes from another block (`share`, `tied`): the file was saved
    /// from a model that shares differently, and loading would drop it silently.
    func checkSharing(of tensors: [String: Tensor], source: String) throws(DataError) {
        for block in blocks {
            let own = Set(block.ownParameters.map(ObjectIdentifier.init))
            for p in block.parameters where !own.contains(ObjectIdentifier(p)) && tensors["\(block.name).\(p.name)"] != nil {
                let owner = namedParameters.first { $0.parameter === p }?.name ?? p.name
                throw DataError("\(source) stores \(block.name).\(p.name), but \(block.name) uses \(owner) in this model: "
                                + "the file was saved from a model that shares its weights differently")
            }
        }
    }

    /// For a parameter the file lacks (`dense2.kernel`): when the file holds
    /// nothing at all of that block, most likely it shared another block's
    /// weights in the model saved; empty otherwise.
    private func sharingNote(_ name: String, in tensors: [String: Tensor]) -> String {
        guard let dot = name.lastIndex(of: ".") else { return "" }
        let prefix = name[...dot]
        guard !tensors.keys.contains(where: { $0.hasPrefix(prefix) }) else { return "" }
        return "nothing of \(name[..<dot]) is stored, as when it shares another layer's weights in the model saved; "
            + "load the file with the definition it was saved with"
    }
}
