import LoomEngine

/// Turns Loom's layers into ONNX nodes one at a time: each takes the name of
/// the value before it and returns the name of its output. The layer kinds
/// are split by family over this file (dense, elementwise, normalisation,
/// LISTA), `ConvolutionExport.swift` and `RecurrentExport.swift`.
struct LayerExporter {
    var graph = GraphBuilder()
    private(set) var notes: [String] = []
    private var noted: Set<ObjectIdentifier> = []

    mutating func export(_ layer: Layer, _ x: String) throws(ONNXExportError) -> String {
        noteDenseEquivalents(of: layer)
        let scope = layer.name
        switch layer {
        case let dense as Dense: return self.dense(dense, x)
        case let hashed as HashedDense: return self.hashed(hashed, x)
        case let activation as Activation: return self.activation(activation.function, x, in: scope)
        case let conv as Conv2D: return self.conv(conv, x)
        case let depthwise as DepthwiseConv2D: return self.depthwise(depthwise, x)
        case let separable as SeparableConv2D: return self.separable(separable, x)
        case let pool as Pooling2D: return self.pool(pool, x)
        case let pool as GlobalPooling: return globalPool(pool, x)
        case let local as LocallyConnected2D: return self.local(local, x)
        case let sequence as OnSequence: return try onSequence(sequence, x)
        case let recurrent as RecurrentLayer: return try self.recurrent([recurrent], x, in: scope)
        case let pair as Bidirectional:
            guard let ahead = pair.forward as? RecurrentLayer, let behind = pair.backward as? RecurrentLayer else {
                throw ONNXExportError(layer: scope, reason: "its cells are not recurrent layers")
            }
            return try recurrent([ahead, behind], x, in: scope)
        case is Flatten, is Reshape: return graph.reshape(x, to: layer.outputShape, in: scope)
        case is Dropout, is ActivityRegularization: return x  // identities outside training
        case let norm as BatchNorm: return batchNorm(norm, x)
        case let norm as LayerNorm: return layerNorm(norm, x)
        case let threshold as Threshold: return self.threshold(threshold, x)
        case let winners as KWinners: return kWinners(winners, x)
        case let lista as Lista: return self.lista(lista, x)
        default:
            throw ONNXExportError(layer: scope, reason: "ONNX export does not know the layer kind `\(layer.kind)`")
        }
    }

    /// Notes, once per weight, where the file holds a dense equivalent of
    /// what Loom stores compactly: pruned zeros and clustered centroids.
    private mutating func noteDenseEquivalents(of layer: Layer) {
        for p in layer.parameters where !noted.contains(ObjectIdentifier(p)) {
            noted.insert(ObjectIdentifier(p))
            let name = "\(layer.name).\(p.name)", zeros = p.value.zeroCount
            switch (p.mask != nil, p.clusters != nil) {
            case (true, true):
                notes.append("\(name) is pruned and clustered: written dense, its \(zeros) zeros included and each kept weight as its centroid")
            case (false, true): notes.append("\(name) is clustered: written dense, each weight as its centroid")
            case (true, false): notes.append("\(name) is pruned: written dense, its \(zeros) zeros included")
            case (false, false): break
            }
        }
    }

    // MARK: dense

    /// y = x·W + b (W `[inputs, units]`; a tied layer multiplies by the lender's kernel transposed).
    mutating func dense(_ layer: Dense, _ x: String) -> String {
        let scope = layer.name
        var kernel = graph.weight(layer.weight, scope: scope)
        if layer.transposesKernel { kernel = graph.transpose(kernel, [1, 0], in: scope) }
        let product = graph.node("MatMul", [x, kernel], in: scope)
        return graph.node("Add", [product, graph.weight(layer.bias, scope: scope)], in: scope)
    }

    /// A hashed layer's virtual matrix, gathered from its real weights, as a dense kernel.
    mutating func hashed(_ layer: HashedDense, _ x: String) -> String {
        let scope = layer.name, hash = layer.hash
        notes.append("\(scope) is hashed: its \(hash.rows)x\(hash.columns) virtual kernel is written dense "
                     + "(from \(hash.buckets) real weights)")
        let kernel = graph.weight(layer.weight, scope: scope, tag: "virtual") { real in
            (hash.virtualMatrix(of: real.value.storage), [hash.rows, hash.columns])
        }
        let product = graph.node("MatMul", [x, kernel], in: scope)
        return graph.node("Add", [product, graph.weight(layer.bias, scope: scope)], in: scope)
    }

    /// Loom's activations; softmax over the last axis.
    mutating func activation(_ function: ActivationFunction, _ x: String, in scope: String) -> String {
        switch function {
        case .linear: return x
        case .relu: return graph.node("Relu", [x], in: scope)
        case .tanh: return graph.node("Tanh", [x], in: scope)
        case .sigmoid: return graph.node("Sigmoid", [x], in: scope)
        case .softmax: return graph.node("Softmax", [x], in: scope, [.int("axis", -1)])
        }
    }

    // MARK: normalisation

    /// (x − mean)·(1/√(var + ε))·γ + β over the last axis, in the order Loom computes it.
    mutating func batchNorm(_ layer: BatchNorm, _ x: String) -> String {
        let scope = layer.name, p = layer.parameters  // γ, β, moving mean, moving variance
        let variance = layer.movingVariance.value.storage, epsilon = layer.spec.epsilon
        let inverse = variance.map { 1 / ($0 + epsilon).squareRoot() }
        let centred = graph.node("Sub", [x, graph.weight(layer.movingMean, scope: scope)], in: scope)
        let normalised = graph.node("Mul", [centred, graph.constant(inverse, shape: [inverse.count], named: "\(scope)/inverse")],
                                    in: scope)
        let scaled = graph.node("Mul", [normalised, graph.weight(p[0], scope: scope)], in: scope)
        return graph.node("Add", [scaled, graph.weight(p[1], scope: scope)], in: scope)
    }

    mutating func layerNorm(_ layer: LayerNorm, _ x: String) -> String {
        let scope = layer.name, p = layer.parameters  // γ, β
        return graph.node("LayerNormalization", [x, graph.weight(p[0], scope: scope), graph.weight(p[1], scope: scope)],
                          in: scope, [.int("axis", -1), .float("epsilon", layer.epsilon)])
    }

    // MARK: elementwise selections

    /// x where |x| ≥ ε, else 0.
    mutating func threshold(_ layer: Threshold, _ x: String) -> String {
        let scope = layer.name
        let magnitude = graph.node("Abs", [x], in: scope)
        let kept = graph.node("GreaterOrEqual", [magnitude, graph.constant([layer.epsilon], shape: [], named: "\(scope)/epsilon")],
                              in: scope)
        return graph.node("Where", [kept, x, graph.constant([0], shape: [], named: "\(scope)/zero")], in: scope)
    }

    /// The k largest of each group (scores boosted by the duty cycles, ties
    /// to the lower index, as ONNX's TopK breaks them) kept, the rest zeroed:
    /// TopK's indices scattered as ones into a mask.
    mutating func kWinners(_ layer: KWinners, _ x: String) -> String {
        let scope = layer.name, group = layer.group, k = layer.inferenceK
        if k >= group { return x }
        let rows = graph.reshape(x, to: [group], in: scope)
        let boost = layer.boostFactors
        let tiled = (0..<group).map { boost[$0 % boost.count] }
        let scores = graph.node("Mul", [rows, graph.constant(tiled, shape: [group], named: "\(scope)/boost")], in: scope)
        let blank = filled(graph.node("Shape", [scores], in: scope), with: 0, in: scope)
        guard k > 0 else { return graph.reshape(blank, to: layer.outputShape, in: scope) }
        let top = graph.nodeOutputs("TopK", [scores, graph.integers([k], named: "\(scope)/k")], in: scope, outputs: 2,
                                    [.int("axis", -1), .int("largest", 1), .int("sorted", 1)])
        let ones = filled(graph.node("Shape", [top[1]], in: scope), with: 1, in: scope)
        let mask = graph.node("ScatterElements", [blank, top[1], ones], in: scope, [.int("axis", -1)])
        let kept = graph.node("Mul", [rows, mask], in: scope)
        return graph.reshape(kept, to: layer.outputShape, in: scope)
    }

    /// A float tensor of the shape `shape` holds, every value `value`.
    mutating func filled(_ shape: String, with value: Float, in scope: String) -> String {
        var tensor = Onnx_TensorProto()
        tensor.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        tensor.dims = [1]
        tensor.floatData = [value]
        var attribute = Onnx_AttributeProto()
        attribute.name = "value"
        attribute.type = .tensor
        attribute.t = tensor
        return graph.node("ConstantOfShape", [shape], in: scope, [attribute])
    }

    // MARK: LISTA

    /// T ISTA steps unrolled on the shared weights: c = x·Wₑᵀ; z₁ = soft(η·c);
    /// z_t = soft(z − η·(z·S − c)), soft-thresholding by θ = α/L (ONNX's Shrink).
    mutating func lista(_ layer: Lista, _ x: String) -> String {
        let scope = layer.name
        let encoder = graph.weight(layer.encoder, scope: scope, tag: "transposed") { p in
            let (k, n) = (p.value.shape[0], p.value.shape[1]), w = p.value.storage
            return ((0..<(n * k)).map { i in w[(i % k) * n + i / k] }, [n, k])
        }
        let mutual = graph.weight(layer.mutual, scope: scope)
        let cut = layer.cut
        let eta = graph.constant([layer.step], shape: [], named: "\(scope)/step")
        let shrink: [Onnx_AttributeProto] = [.float("bias", cut), .float("lambd", cut)]
        let c = graph.node("MatMul", [x, encoder], in: scope)
        var z = graph.node("Shrink", [graph.node("Mul", [c, eta], in: scope)], in: scope, shrink)
        for _ in 1..<max(layer.steps, 1) {
            let q = graph.node("MatMul", [z, mutual], in: scope)
            let move = graph.node("Mul", [graph.node("Sub", [q, c], in: scope), eta], in: scope)
            z = graph.node("Shrink", [graph.node("Sub", [z, move], in: scope)], in: scope, shrink)
        }
        return z
    }
}
