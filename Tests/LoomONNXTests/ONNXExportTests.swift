import Foundation
import LoomEngine
import LoomONNX
import SwiftProtobuf
import XCTest

/// The written bytes parse back as an ONNX model holding the expected
/// graph; predictions against onnxruntime are checked in
/// Tests/conformance/test_export_onnx.py.
final class ONNXExportTests: XCTestCase {
    private func parsed(_ model: Sequential) throws -> (Onnx_ModelProto, [String]) {
        let export = try ONNXExport(model)
        return (try Onnx_ModelProto(serializedBytes: export.bytes), export.notes)
    }

    private func initializer(_ name: String, in model: Onnx_ModelProto) throws -> Onnx_TensorProto {
        try XCTUnwrap(model.graph.initializer.first { $0.name == name }, "no initializer \(name)")
    }

    func testDenseModelParsesBackWithItsOpsetShapesAndWeights() throws {
        let m = try Sequential(name: "mlp", inputShape: [4], random: RandomGenerator(seed: 1))
        try m.add(DenseSpec(units: 3, activation: .relu))
        try m.add(DenseSpec(units: 2, activation: .softmax))
        let (proto, notes) = try parsed(m)
        XCTAssertEqual(proto.irVersion, 8)
        XCTAssertEqual(proto.opsetImport.map(\.version), [17])
        XCTAssertEqual(proto.graph.node.map(\.opType), ["MatMul", "Add", "Relu", "MatMul", "Add", "Softmax", "Identity"])
        XCTAssertEqual(proto.graph.input.map(\.name), ["input"])
        XCTAssertEqual(proto.graph.output.map(\.name), ["output"])
        let inputDims = proto.graph.input[0].type.tensorType.shape.dim
        XCTAssertEqual(inputDims.map(\.dimParam), ["batch", ""])
        XCTAssertEqual(inputDims.map(\.dimValue), [0, 4])
        XCTAssertEqual(proto.graph.output[0].type.tensorType.shape.dim.map(\.dimValue), [0, 2])
        let kernel = try initializer(proto.graph.node[0].input[1], in: proto)
        XCTAssertEqual(kernel.dims, [4, 3])
        XCTAssertEqual(kernel.floatData, m.blocks[0].main.parameters[0].value.storage)
        XCTAssertTrue(notes.isEmpty)
    }

    func testTiedDecoderUsesTheEncodersInitializerThroughTranspose() throws {
        let m = try Sequential(name: "ae", inputShape: [6], random: RandomGenerator(seed: 2))
        try m.add(DenseSpec(units: 3, activation: .sigmoid))
        try m.add(DenseSpec(units: 6, activation: .linear, tied: "dense1"))
        let (proto, _) = try parsed(m)
        XCTAssertEqual(proto.graph.node.map(\.opType), ["MatMul", "Add", "Sigmoid", "Transpose", "MatMul", "Add", "Identity"])
        let encoderKernel = proto.graph.node[0].input[1]
        XCTAssertEqual(proto.graph.node[3].input, [encoderKernel])
        XCTAssertEqual(proto.graph.initializer.filter { $0.dims == [6, 3] }.count, 1, "one kernel, used twice")
    }

    func testSharedBlockReusesTheLendersInitializers() throws {
        let m = try Sequential(name: "twin", inputShape: [3], random: RandomGenerator(seed: 3))
        try m.add(DenseSpec(units: 3, activation: .tanh))
        try m.add(DenseSpec(units: 3, activation: .tanh), sharing: "dense1")
        let (proto, _) = try parsed(m)
        let products = proto.graph.node.filter { $0.opType == "MatMul" }
        XCTAssertEqual(products.count, 2)
        XCTAssertEqual(products[0].input[1], products[1].input[1])
        XCTAssertEqual(proto.graph.initializer.count, 2, "the kernel and the bias, once")
    }

    func testConvolutionKernelIsWrittenFiltersFirstBetweenTransposes() throws {
        let m = try Sequential(name: "cnn", inputShape: [5, 5, 2], random: RandomGenerator(seed: 4))
        try m.add(Conv2DSpec(filters: 4, kernel: Window(3, 2), activation: .linear, stride: 2, padding: .same, groups: 2))
        let (proto, _) = try parsed(m)
        XCTAssertEqual(proto.graph.node.map(\.opType), ["Transpose", "Conv", "Transpose", "Identity"])
        let conv = proto.graph.node[1]
        let attributes = Dictionary(uniqueKeysWithValues: conv.attribute.map { ($0.name, $0) })
        XCTAssertEqual(attributes["group"]?.i, 2)
        XCTAssertEqual(attributes["strides"]?.ints, [2, 2])
        // Keras's `same`: 5 → 3 rows; 3 + 2·2 − 5 = 2 rows of zeros, 1 before; 2 + 2·2 − 5 = 1 column, after.
        XCTAssertEqual(attributes["pads"]?.ints, [1, 0, 1, 1])
        let kernel = try initializer(conv.input[1], in: proto)
        XCTAssertEqual(kernel.dims, [4, 1, 3, 2])
        let loom = m.blocks[0].main.parameters[0].value  // [kh, kw, C/G, F]
        for (f, y, x) in [(0, 0, 0), (3, 2, 1), (1, 1, 0)] {
            XCTAssertEqual(kernel.floatData[(f * 3 + y) * 2 + x], loom.storage[(y * 2 + x) * 4 + f])
        }
    }

    func testLocallyConnectedGathersEachPatchFromItsInputs() throws {
        let m = try Sequential(name: "local", inputShape: [3, 3, 1], random: RandomGenerator(seed: 5))
        try m.add(Local2DSpec(filters: 2, kernel: Window(2, 2), padding: .same))
        let (proto, _) = try parsed(m)
        let gather = try XCTUnwrap(proto.graph.node.first { $0.opType == "Gather" })
        let indices = try initializer(gather.input[1], in: proto)
        XCTAssertEqual(indices.dims, [9, 4])
        // Keras's `same` on 3×3 with 2×2 pads after: the last row and column
        // of windows reach the appended zero (index 9).
        XCTAssertEqual(Array(indices.int64Data.prefix(8)), [0, 1, 3, 4, 1, 2, 4, 5])
        XCTAssertEqual(Array(indices.int64Data.suffix(4)), [8, 9, 9, 9])
    }

    func testPrunedAndHashedWeightsAreNotedAsDense() throws {
        let m = try Sequential(name: "sparse", inputShape: [8], random: RandomGenerator(seed: 6))
        try m.add(DenseSpec(units: 8, activation: .relu, sparsity: 0.5))
        try m.add(DenseSpec(units: 4, activation: .linear, hashed: 5))
        let (proto, notes) = try parsed(m)
        XCTAssertEqual(notes.count, 2)
        XCTAssertTrue(notes[0].hasPrefix("dense1.kernel is pruned"), notes[0])
        XCTAssertTrue(notes[1].hasPrefix("dense2 is hashed"), notes[1])
        let virtual = try initializer(proto.graph.node.filter { $0.opType == "MatMul" }[1].input[1], in: proto)
        XCTAssertEqual(virtual.dims, [8, 4])
        XCTAssertEqual(Set(virtual.floatData.map(abs)).subtracting([0]).count, 5, "five real weights, signed")
    }

    func testBidirectionalLSTMIsOneONNXLSTMWithGatesReordered() throws {
        let m = try Sequential(name: "seq", inputShape: [5, 2], random: RandomGenerator(seed: 7))
        var spec = RecurrentSpec(cell: LSTM.self, units: 3)
        spec.bidirectional = true
        try m.add(spec)
        let (proto, _) = try parsed(m)
        let lstm = try XCTUnwrap(proto.graph.node.first { $0.opType == "LSTM" })
        let attributes = Dictionary(uniqueKeysWithValues: lstm.attribute.map { ($0.name, $0) })
        XCTAssertEqual(attributes["direction"]?.s, Data("bidirectional".utf8))
        let w = try initializer(lstm.input[1], in: proto)
        XCTAssertEqual(w.dims, [2, 12, 2])
        // ONNX's second gate block is the output gate, Keras's fourth: W[0, 3 + u, f] = kernel[f, 9 + u].
        let kernel = m.blocks[0].main.parameters[0].value.storage  // [2, 12]
        XCTAssertEqual(w.floatData[(3 + 1) * 2 + 1], kernel[1 * 12 + 9 + 1])
    }

    func testALayerKindItDoesNotKnowIsNamedInTheError() throws {
        let m = try Sequential(name: "odd", inputShape: [2], random: RandomGenerator(seed: 8))
        try m.add(OddSpec())
        XCTAssertThrowsError(try ONNXExport(m)) { error in
            XCTAssertEqual("\(error)", "cannot export odd1 to ONNX: ONNX export does not know the layer kind `odd`")
        }
    }
}

/// A layer only this test knows.
private struct OddSpec: LayerSpec {
    var blockPrefix: String { "odd" }
    func parameterCount(input: [Int]) throws(ShapeError) -> Int { 0 }
    func build(name: String, input: [Int], random: inout RandomGenerator) throws(ShapeError) -> [Layer] {
        [Odd(name: name, shape: input)]
    }
}

private final class Odd: Layer {
    let name: String, kind = "odd", inputShape: [Int]
    var outputShape: [Int] { inputShape }
    init(name: String, shape: [Int]) { (self.name, inputShape) = (name, shape) }
    var parameters: [Parameter] { [] }
    var state: [LayerState] { [] }
    func forward(_ input: Tensor, training: Bool) -> Tensor { input }
    func backward(_ outputGradient: Tensor) -> Tensor { outputGradient }
    var multiplyAdds: Int { 0 }
    var trainingFloatsPerSample: Int { 0 }
    var unsharedParameters: Int { 0 }
    func replica(on parameters: [Parameter]) -> Layer { self }
}
