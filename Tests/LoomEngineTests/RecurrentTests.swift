import Foundation
import LoomEngine
import XCTest

/// Backpropagation through time against finite differences, for every cell.
extension GradientTests {
    func recurrentLayers(steps: Int, sequences: Bool) throws -> [Layer] {
        [try SimpleRNN(name: "r", input: [steps, 3], units: 4, returnsSequences: sequences, random: &random),
         try LSTM(name: "l", input: [steps, 3], units: 4, returnsSequences: sequences, random: &random),
         try GRU(name: "g", input: [steps, 3], units: 4, returnsSequences: sequences, random: &random)]
    }

    func testRecurrentLayersOverOneAndSeveralSteps() throws {
        for steps in [1, 5] {
            for sequences in [false, true] {
                for layer in try recurrentLayers(steps: steps, sequences: sequences) {
                    // Biases away from zero, so every gate's gradient is exercised.
                    for p in layer.parameters where p.name == "bias" {
                        for i in 0..<p.value.count { p.value[i] += Float(i % 5) * 0.1 - 0.2 }
                    }
                    check(layer, input: randomTensor([2, steps, 3]), eps: 5e-3, tolerance: 2e-2)
                }
            }
        }
    }

    /// The LSTM's and GRU's loops run eight units at a time: 8 units are
    /// whole vectors, 13 a vector and an overlapping or a short one, 3 a
    /// short vector.
    func testGatedCellsWithUnitsAroundTheVectorWidth() throws {
        for units in [3, 8, 13] {
            let layers: [any RecurrentCell] = [
                try LSTM(name: "l", input: [3, 2], units: units, returnsSequences: true, random: &random),
                try GRU(name: "g", input: [3, 2], units: units, returnsSequences: true, random: &random),
            ]
            for layer in layers {
                for p in layer.parameters where p.name == "bias" {
                    for i in 0..<p.value.count { p.value[i] += Float(i % 5) * 0.1 - 0.2 }
                }
                check(layer, input: randomTensor([2, 3, 2]), eps: 5e-3, tolerance: 2e-2)
            }
        }
    }

    func testBidirectionalLayers() throws {
        for sequences in [false, true] {
            for cell in RecurrentCells.all {
                let layer = try RecurrentSpec(cell: cell, units: 3, returnsSequences: sequences, bidirectional: true)
                    .build(name: "b", input: [4, 2], random: &random)[0]
                XCTAssertEqual(layer.outputShape, sequences ? [4, 6] : [6])
                XCTAssertEqual(try RecurrentSpec(cell: cell, units: 3, bidirectional: true).parameterCount(input: [4, 2]),
                               layer.parameterCount)
                check(layer, input: randomTensor([2, 4, 2]), eps: 5e-3)
            }
        }
    }

    func testRecurrentActivations() throws {
        for activation in [ActivationFunction.relu, .sigmoid, .linear] {
            check(try LSTM(name: "l", input: [4, 2], units: 3, activation: activation, random: &random),
                  input: randomTensor([3, 4, 2], awayFromZero: true), eps: 2e-3)
            check(try GRU(name: "g", input: [4, 2], units: 3, activation: activation, returnsSequences: true, random: &random),
                  input: randomTensor([3, 4, 2], awayFromZero: true), eps: 2e-3)
        }
    }

    func testStackedRecurrentLayersAndADenseLayerOnASequence() throws {
        let model = try Sequential(name: "m", inputShape: [6, 2], random: RandomGenerator(seed: 5))
        try model.add(RecurrentSpec(cell: LSTM.self, units: 5, returnsSequences: true))
        try model.add(RecurrentSpec(cell: GRU.self, units: 4))
        try model.add(.dense(units: 3, activation: .softmax))
        XCTAssertEqual(model.outputShape, [3])
        let x = randomTensor([4, 6, 2]), labels = [0, 2, 1, 2]
        for p in model.parameters { p.zeroGradient() }
        let out = model.forward(x, training: true)
        model.backward(Loss.softmaxCrossEntropyGradient(probabilities: out, labels: labels), fromLogits: true)
        for p in model.parameters {
            for i in stride(from: 0, to: p.value.count, by: max(1, p.value.count / 12)) {
                let eps: Float = 5e-3
                p.value[i] += eps
                let plus = Loss.crossentropy.evaluate(model.forward(x, training: false), labels: labels).loss
                p.value[i] -= 2 * eps
                let minus = Loss.crossentropy.evaluate(model.forward(x, training: false), labels: labels).loss
                p.value[i] += eps
                let numerical = (plus - minus) / (2 * Double(eps))
                XCTAssertEqual(Double(p.gradient[i]), numerical, accuracy: 2e-2 * max(1, abs(numerical)), "\(p.name)[\(i)]")
            }
        }
    }
}

final class RecurrentShapeTests: XCTestCase {
    func testParameterCountsAreKeras() throws {
        var random = RandomGenerator(seed: 1)
        // Keras: LSTM 4·(H·(F+H) + H), GRU (reset_after) 3·H·(F+H) + 6·H, SimpleRNN H·(F+H) + H.
        let (f, h) = (3, 50)
        XCTAssertEqual(try LSTM(name: "l", input: [10, f], units: h, random: &random).parameterCount, 4 * (h * (f + h) + h))
        XCTAssertEqual(try GRU(name: "g", input: [10, f], units: h, random: &random).parameterCount, 3 * h * (f + h) + 6 * h)
        XCTAssertEqual(try SimpleRNN(name: "r", input: [10, f], units: h, random: &random).parameterCount, h * (f + h) + h)
        for cell in RecurrentCells.all {
            let spec = RecurrentSpec(cell: cell, units: h)
            let layer = try spec.build(name: "x", input: [10, f], random: &random)[0]
            XCTAssertEqual(try spec.parameterCount(input: [10, f]), layer.parameterCount, "\(cell)")
            XCTAssertEqual(layer.unsharedParameters, 10 * layer.parameterCount)
        }
    }

    /// Each cell's one table shapes its weights in Keras's layouts: the
    /// kernels gates·units wide, the bias in its rows.
    func testEachCellsGatesAndBiasRowsShapeItsWeights() throws {
        var random = RandomGenerator(seed: 4)
        let (f, h) = (2, 3)
        let expected: [String: (width: Int, bias: [Int])] = ["rnn": (h, [h]), "lstm": (4 * h, [4 * h]), "gru": (3 * h, [2, 3 * h])]
        XCTAssertEqual(RecurrentCells.all.map { $0.kind }, ["rnn", "lstm", "gru"])
        for cell in RecurrentCells.all {
            let layer = try XCTUnwrap(try RecurrentSpec(cell: cell, units: h).build(name: "x", input: [5, f], random: &random)[0]
                as? any RecurrentCell)
            let keras = try XCTUnwrap(expected[cell.kind])
            XCTAssertEqual(layer.kind, cell.kind)
            XCTAssertEqual(layer.kernel.value.shape, [f, keras.width], cell.kind)
            XCTAssertEqual(layer.recurrentKernel.value.shape, [h, keras.width], cell.kind)
            XCTAssertEqual(layer.bias.value.shape, keras.bias, cell.kind)
        }
    }

    func testKerasInitialisation() throws {
        var random = RandomGenerator(seed: 2)
        let lstm = try LSTM(name: "l", input: [5, 3], units: 4, random: &random)
        // The forget gate's bias is 1, the others 0.
        XCTAssertEqual(lstm.bias.value.storage, [0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0])
        // The recurrent kernel [4, 16] has orthonormal rows.
        let u = lstm.recurrentKernel.value
        for a in 0..<4 {
            for b in 0..<4 {
                let dot = (0..<16).reduce(Float(0)) { $0 + u[a * 16 + $1] * u[b * 16 + $1] }
                XCTAssertEqual(dot, a == b ? 1 : 0, accuracy: 1e-5)
            }
        }
        let tall = Initializer.orthogonal(rows: 6, columns: 2, random: &random)
        for a in 0..<2 { for b in 0..<2 {
            XCTAssertEqual((0..<6).reduce(Float(0)) { $0 + tall[$1 * 2 + a] * tall[$1 * 2 + b] }, a == b ? 1 : 0, accuracy: 1e-5)
        } }
    }

    func testShapesAndErrors() throws {
        var random = RandomGenerator(seed: 3)
        let gru = try GRU(name: "g", input: [7, 2], units: 5, returnsSequences: true, random: &random)
        XCTAssertEqual(gru.outputShape, [7, 5])
        XCTAssertEqual(gru.forward(Tensor(zeros: [3, 7, 2]), training: false).shape, [3, 7, 5])
        XCTAssertThrowsError(try LSTM(name: "l", input: [28, 28, 1], units: 5, random: &random)) {
            XCTAssertEqual("\($0)", "lstm needs an input of steps×features, like 10x1, not 28x28x1")
        }
        XCTAssertThrowsError(try LSTM(name: "l", input: [4, 1], units: 5, activation: .softmax, random: &random))
    }
}

extension GradientTests {
    /// `dense` after `sequences`: the same weights on every step.
    func testDenseOnASequenceActsOnEveryStep() throws {
        let dense = Dense(name: "d", inputs: 3, units: 2, steps: 4, random: &random)
        XCTAssertEqual(dense.outputShape, [4, 2])
        XCTAssertEqual(dense.unsharedParameters, 4 * 8)
        let x = randomTensor([2, 4, 3])
        let y = dense.forward(x, training: false)
        for row in 0..<8 {
            for u in 0..<2 {
                var sum = dense.bias.value[u]
                for f in 0..<3 { sum += x[row * 3 + f] * dense.weight.value[f * 2 + u] }
                XCTAssertEqual(y[row * 2 + u], sum, accuracy: 1e-5)
            }
        }
        check(dense, input: x)
        let spec = DenseSpec(units: 2, activation: .linear)
        XCTAssertEqual(try spec.parameterCount(input: [4, 3]), 8)
        XCTAssertThrowsError(try spec.build(name: "d", input: [2, 2, 2], random: &random))
    }
}

/// Loom's cells against Keras 3's, on weights and outputs Keras wrote
/// (Fixtures/make_keras_recurrent.py made the file once).
final class RecurrentKerasTests: XCTestCase {
    func testOutputsMatchKeras() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/keras-recurrent.safetensors")
        let file = try SafeTensors.decode([UInt8](Data(contentsOf: url)), source: "keras-recurrent.safetensors")
        let x = try XCTUnwrap(file.tensors["input"])
        XCTAssertEqual(x.shape, [3, 6, 2])
        var random = RandomGenerator(seed: 1)
        var checked = 0
        for cell in RecurrentCells.all {
            for sequences in [false, true] {
                let key = cell.kind + (sequences ? "_seq" : "")
                let layer = try XCTUnwrap(try RecurrentSpec(cell: cell, units: 4, returnsSequences: sequences)
                    .build(name: key, input: [6, 2], random: &random)[0] as? any RecurrentCell)
                for p in layer.parameters {
                    let stored = try XCTUnwrap(file.tensors["\(key).\(p.name)"], "\(key).\(p.name)")
                    XCTAssertEqual(stored.shape, p.value.shape, "\(key).\(p.name): Keras's layout")
                    p.value = stored
                }
                let expected = try XCTUnwrap(file.tensors["\(key).output"])
                let y = layer.forward(x, training: false)
                XCTAssertEqual(y.shape, expected.shape, key)
                for i in 0..<y.count { XCTAssertEqual(y[i], expected[i], accuracy: 1e-5, "\(key)[\(i)]") }
                checked += 1
            }
        }
        for sequences in [false, true] {
            let key = "bilstm" + (sequences ? "_seq" : "")
            let layer = try RecurrentSpec(cell: LSTM.self, units: 4, returnsSequences: sequences, bidirectional: true)
                .build(name: key, input: [6, 2], random: &random)[0]
            XCTAssertEqual(layer.parameters.map(\.name), ["forward.kernel", "forward.recurrent_kernel", "forward.bias",
                                                        "backward.kernel", "backward.recurrent_kernel", "backward.bias"])
            for p in layer.parameters { p.value = try XCTUnwrap(file.tensors["\(key).\(p.name)"], "\(key).\(p.name)") }
            let expected = try XCTUnwrap(file.tensors["\(key).output"])
            let y = layer.forward(x, training: false)
            XCTAssertEqual(y.shape, expected.shape, key)
            for i in 0..<y.count { XCTAssertEqual(y[i], expected[i], accuracy: 1e-5, "\(key)[\(i)]") }
            checked += 1
        }
        XCTAssertEqual(checked, 8)
    }
}

extension GradientTests {
    func testConv1DPoolingAndGlobalPoolingOnSequences() throws {
        var random = RandomGenerator(seed: 6)
        for padding in [Conv2D.Padding.valid, .same] {
            let conv = try Conv1DSpec(filters: 3, kernel: 3, stride: 1, padding: padding).build(name: "c", input: [7, 2], random: &random)[0]
            XCTAssertEqual(conv.outputShape, padding == .valid ? [5, 3] : [7, 3])
            XCTAssertEqual(conv.parameters[0].value.shape, [3, 2, 3], "Keras's Conv1D kernel layout")
            check(conv, input: randomTensor([2, 7, 2]))
        }
        let pool = try MaxPool1DSpec(size: 2, stride: nil).build(name: "p", input: [6, 3], random: &random)[0]
        XCTAssertEqual(pool.outputShape, [3, 3])
        check(pool, input: distinctTensor([2, 6, 3]))
        for mode in GlobalPoolingSpec.Mode.allCases {
            let global = try GlobalPoolingSpec(mode: mode).build(name: "g", input: [5, 3], random: &random)[0]
            XCTAssertEqual(global.outputShape, [3])
            check(global, input: distinctTensor([2, 5, 3]))
        }
    }

    /// conv1d on a sequence is the sum over the window of steps, per filter.
    func testConv1DMatchesADirectConvolution() throws {
        var random = RandomGenerator(seed: 7)
        let conv = try Conv1DSpec(filters: 2, kernel: 3).build(name: "c", input: [5, 2], random: &random)[0]
        let (w, b) = (conv.parameters[0].value, conv.parameters[1].value)
        let x = randomTensor([1, 5, 2])
        let y = conv.forward(x, training: false)
        for t in 0..<3 {
            for f in 0..<2 {
                var sum = b[f]
                for k in 0..<3 { for c in 0..<2 { sum += x[(t + k) * 2 + c] * w[(k * 2 + c) * 2 + f] } }
                XCTAssertEqual(y[t * 2 + f], sum, accuracy: 1e-5)
            }
        }
    }
}
