/// Why a model cannot be compacted, naming the layer at fault.
public struct CompactionError: Error, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
}

/// `compact M`: removes for real the units and filters structured pruning
/// zeroed (Torch-Pruning's dependency-aware removal). A dense unit or a
/// conv2d filter whose weights and bias are all zero gives a zero output
/// channel as long as what follows keeps zeros zero (relu, tanh, linear,
/// pooling, dropout, a batchnorm whose γ and β are zero there); such a
/// channel is dropped from its layer and the matching inputs from the next
/// dense or conv2d layer (through flatten and batchnorm), so the outputs
/// are unchanged (but for the order BLAS sums in, which follows the shapes)
/// and the model smaller and faster.
public struct Compaction {
    /// The compacted model, with the kept weights, layer state, and the
    /// masks that still hold zeros (a layer pruned only by units has none left).
    public let model: Sequential
    /// Per parameter of the old model (its table order): which of its
    /// values the new parameter keeps, in order.
    public let kept: [[Int]]
    /// Per block: its output units or filters before and after.
    public let shrunk: [(block: String, from: Int, to: Int)]

    /// `values` (one array per old parameter: initial weights, a snapshot) cut down as the weights were.
    public func gather(_ values: [[Float]]) -> [[Float]] {
        zip(values, kept).map { v, indices in indices.map { v[$0] } }
    }

    /// Compacts `model`; throws when it shares parameters, when a removed
    /// channel would reach a layer that mixes channels, or when nothing is
    /// removable.
    public init(_ model: Sequential) throws(CompactionError) {
        if let shared = model.blocks.first(where: { $0.sharedFrom != nil || ($0.main as? Dense)?.transposesKernel == true }) {
            throw CompactionError("\(shared.name) uses another layer's weights; compact takes models that share none")
        }
        let blocks = model.blocks
        var specs: [any LayerSpec] = []
        var gathers: [[[Int]]] = []
        var shrunk: [(String, Int, Int)] = []
        var blocked: [String] = []
        // Which channels of the last axis survive, nil for all; and that axis's size before compaction.
        var incoming: [Int]?
        var width = model.inputShape.last!
        for (i, block) in blocks.enumerated() {
            var spec = block.spec
            var blockGathers: [[Int]] = []
            for layer in block.layers {
                switch layer {
                case is Dense, is Conv2D:
                    // Both hold a weight [positions·channels, units] (a dense layer has one position) and a bias [units].
                    let (weight, bias) = SparseWeights.unitParameters(layer)!
                    let units = weight.value.shape.last!, channels = layer.inputShape.last!
                    let positions = weight.value.count / units / channels
                    let out = Compaction.survivors(of: blocks, at: i, units: units, weight: weight, bias: bias, blocked: &blocked)
                    let inputs = incoming ?? Array(0..<channels)
                    blockGathers += [(0..<positions).flatMap { p in
                        inputs.flatMap { c in out.map { ((p * channels) + c) * units + $0 } }
                    }, out]
                    if out.count < units {
                        spec = Compaction.spec(spec, units: out.count)
                        shrunk.append((block.name, units, out.count))
                    }
                    incoming = out.count < units ? out : nil
                    width = units
                case let norm as BatchNorm:
                    blockGathers += norm.parameters.map { _ in incoming ?? Array(0..<width) }
                case let flatten as Flatten:
                    if let kept = incoming {
                        let positions = Shape.count(flatten.inputShape)! / width
                        incoming = (0..<positions).flatMap { p in kept.map { p * width + $0 } }
                    }
                    width = flatten.outputSize
                default:
                    blockGathers += layer.parameters.map { p in Array(0..<p.value.count) }
                    width = layer.outputShape.last ?? width
                }
            }
            specs.append(spec)
            gathers.append(blockGathers)
        }
        guard !shrunk.isEmpty else {
            if let reason = blocked.first { throw CompactionError("nothing to compact: \(reason)") }
            throw CompactionError("nothing to compact: no unit or filter of \(model.name) is pruned whole "
                                  + "(`prune \(model.name) 50% units` or `filters` prunes them)")
        }
        let compacted: Sequential
        do {
            compacted = try Sequential(name: model.name, inputShape: model.inputShape, random: model.random)
            compacted.maxParameters = model.maxParameters
            for (block, spec) in zip(blocks, specs) { try compacted.add(spec, name: block.name) }
        } catch { throw CompactionError(error.message) }
        // Blocks share nothing, so each block's layers' parameters are its own, in table order.
        let kept = gathers.flatMap { $0 }
        for ((old, new), indices) in zip(zip(model.parameters, compacted.parameters), kept) {
            new.value = Tensor(shape: new.value.shape, storage: indices.map { old.value.storage[$0] })
            // A mask that keeps every remaining weight (the removed units were all it held) is dropped.
            let mask = old.mask.map { mask in indices.map { mask[$0] } }
            try? new.setMask(mask?.contains(0) == true ? mask : nil)
        }
        for (old, new) in zip(model.layers.flatMap(\.state), compacted.layers.flatMap(\.state)) where old.value.shape == new.value.shape {
            new.value = old.value
        }
        self.model = compacted
        self.kept = kept
        self.shrunk = shrunk
    }

    /// The units of block `index`'s main layer that stay: all but those
    /// whose weights and bias are zero and whose zero output reaches the
    /// next dense or conv2d layer as zero. At least one stays, so the model keeps a path.
    static func survivors(of blocks: [Block], at index: Int, units: Int, weight: Parameter, bias: Parameter,
                          blocked: inout [String]) -> [Int] {
        var removable = (0..<units).map { u in bias.value[u] == 0 }
        weight.value.storage.withUnsafeBufferPointer { w in
            for i in 0..<w.count where w[i] != 0 { removable[i % units] = false }
        }
        guard removable.contains(true) else { return Array(0..<units) }
        // Follow the channels to their next consumer; without one they are the model's outputs and stay.
        var consumed = false
        // After a flatten, channel u is every value p·units + u.
        var positions = 1
        let name = blocks[index].name
        blocked.append("the pruned units of \(name) are the model's outputs")
        walk: for (b, block) in blocks.enumerated().dropFirst(index) {
            for layer in block.layers.dropFirst(b == index ? 1 : 0) {
                switch layer {
                case is Dense, is Conv2D:
                    consumed = true
                    blocked.removeLast()
                    break walk
                case let norm as BatchNorm:
                    let (gamma, beta) = (norm.parameters[0].value, norm.parameters[1].value)
                    for p in 0..<positions {
                        for u in 0..<units where gamma[p * units + u] != 0 || beta[p * units + u] != 0 { removable[u] = false }
                    }
                case let flatten as Flatten:
                    positions = Shape.count(flatten.inputShape)! / units
                default:
                    guard keepsChannelsApart(layer), layer.forward(Tensor(zeros: [1] + layer.inputShape), training: false).zeroCount
                            == layer.outputSize else {
                        blocked[blocked.count - 1] = "the pruned units of \(name) reach \(block.name), whose \(layer.kind) layer "
                            + "mixes them or makes their zeros nonzero"
                        break walk
                    }
                }
            }
        }
        let kept = (0..<units).filter { !consumed || !removable[$0] }
        return kept.isEmpty ? [0] : kept
    }

    /// `spec` with `units` units (dense) or filters (conv2d).
    static func spec(_ spec: any LayerSpec, units: Int) -> any LayerSpec {
        if var dense = spec as? DenseSpec {
            dense.units = units
            return dense
        }
        if var conv = spec as? Conv2DSpec {
            conv.filters = units
            return conv
        }
        return spec
    }

    /// Whether `layer` acts on each channel of the last axis alone (so a
    /// channel dropped before it can be dropped after it).
    static func keepsChannelsApart(_ layer: Layer) -> Bool {
        switch layer {
        case let a as Activation: return a.function != .softmax
        case is Dropout, is Pooling2D, is GlobalPooling: return true
        default: return false
        }
    }
}
