import LoomEngine

/// Recurrent layers as ONNX's RNN, LSTM and GRU operators. Loom keeps
/// Keras's layouts — kernels `[features, gates·units]`, gates in Keras's
/// order — and ONNX wants `[directions, gates·units, features]` with an
/// LSTM's gates as i, o, f, c; a GRU's reset-after bias is ONNX's
/// `linear_before_reset`.
extension LayerExporter {
    /// One cell, or a bidirectional pair (forward, then backward): the
    /// sequence `[N, T, F]` in, every step's state or the last out, the
    /// directions' units side by side as Loom concatenates them.
    mutating func recurrent(_ cells: [RecurrentLayer], _ x: String, in scope: String) throws(ONNXExportError) -> String {
        let first = cells[0], units = first.units
        let (op, order): (String, [Int])
        switch first {
        case is SimpleRNN: (op, order) = ("RNN", [0])
        case is LSTM: (op, order) = ("LSTM", [0, 3, 1, 2])  // Keras i, f, c, o → ONNX i, o, f, c
        case is GRU: (op, order) = ("GRU", [0, 1, 2])  // z, r, h in both
        default: throw ONNXExportError(layer: scope, reason: "ONNX export does not know the recurrent cell `\(first.kind)`")
        }
        let (function, alpha, beta) = Self.onnxActivation(first.activation)
        // The gates' own functions are sigmoids; the candidate's (and an LSTM's output's) is the layer's.
        let perDirection: [String] = switch op {
        case "LSTM": ["Sigmoid", function, function]
        case "GRU": ["Sigmoid", function]
        default: [function]
        }
        var attributes: [Onnx_AttributeProto] = [
            .int("hidden_size", units),
            .string("direction", cells.count == 2 ? "bidirectional" : "forward"),
            .strings("activations", Array(Array(repeating: perDirection, count: cells.count).joined())),
        ]
        if let alpha, let beta {
            // Consumed in order by the functions that take them: one per Affine.
            let affines = perDirection.filter { $0 == "Affine" }.count * cells.count
            attributes.append(.floats("activation_alpha", Array(repeating: alpha, count: affines)))
            attributes.append(.floats("activation_beta", Array(repeating: beta, count: affines)))
        }
        if op == "GRU" { attributes.append(.int("linear_before_reset", 1)) }

        // Keyed on the first cell's parameters, so a block sharing them reuses the same initializers.
        let directions = cells.count, gates = order.count * units
        let w = graph.weight(first.kernel, scope: scope, tag: "W\(directions)") { _ in
            (cells.flatMap { Self.gatesFirst($0.kernel.value.storage, rows: $0.features, order: order, units: units) },
             [directions, gates, first.features])
        }
        let r = graph.weight(first.recurrentKernel, scope: scope, tag: "R\(directions)") { _ in
            (cells.flatMap { Self.gatesFirst($0.recurrentKernel.value.storage, rows: units, order: order, units: units) },
             [directions, gates, units])
        }
        let b = graph.weight(first.bias, scope: scope, tag: "B\(directions)") { _ in
            (cells.flatMap { Self.biases($0, order: order, units: units) }, [directions, 2 * gates])
        }
        let timeMajor = graph.transpose(x, [1, 0, 2], in: scope)
        let outputs = graph.nodeOutputs(op, [timeMajor, w, r, b], in: scope, outputs: 2, attributes)
        let width = cells.count * units
        if first.returnsSequences {
            // Y: [T, directions, N, units] → [N, T, directions·units].
            let batchMajor = graph.transpose(outputs[0], [2, 0, 1, 3], in: scope)
            return graph.reshape(batchMajor, to: [first.steps, width], in: scope)
        }
        // Y_h: [directions, N, units] → [N, directions·units].
        return graph.reshape(graph.transpose(outputs[1], [1, 0, 2], in: scope), to: [width], in: scope)
    }

    /// The function name ONNX's recurrent operators take, and an Affine's α and β for `linear`.
    private static func onnxActivation(_ function: ActivationFunction) -> (String, Float?, Float?) {
        switch function {
        case .relu: ("Relu", nil, nil)
        case .sigmoid: ("Sigmoid", nil, nil)
        case .linear: ("Affine", 1, 0)
        case .tanh, .softmax: ("Tanh", nil, nil)  // recurrent layers refuse softmax when built
        }
    }

    /// `[rows, gates·units]` as `[gates·units, rows]`, the gate blocks in ONNX's `order`.
    private static func gatesFirst(_ w: [Float], rows: Int, order: [Int], units: Int) -> [Float] {
        let width = order.count * units
        var out = [Float](repeating: 0, count: w.count)
        for (slot, gate) in order.enumerated() {
            for u in 0..<units {
                for row in 0..<rows { out[(slot * units + u) * rows + row] = w[row * width + gate * units + u] }
            }
        }
        return out
    }

    /// ONNX's `[Wb, Rb]`: the input bias, and the recurrent one (a GRU's second row; zeros for the others).
    private static func biases(_ cell: RecurrentLayer, order: [Int], units: Int) -> [Float] {
        let width = order.count * units, bias = cell.bias.value.storage
        func reordered(_ row: ArraySlice<Float>) -> [Float] {
            order.flatMap { gate in row[(row.startIndex + gate * units)..<(row.startIndex + (gate + 1) * units)] }
        }
        let input = reordered(bias[0..<width])
        let recurrent = bias.count > width ? reordered(bias[width..<(2 * width)]) : [Float](repeating: 0, count: width)
        return input + recurrent
    }
}
