import Foundation
import LoomEngine

/// An ONNX graph as it is written: nodes in order, initializers, and a name
/// for every value. The layer exporters call `node` and `constant`, so none
/// of them touches the protobuf types directly.
struct GraphBuilder {
    private(set) var nodes: [Onnx_NodeProto] = []
    private(set) var initializers: [Onnx_TensorProto] = []
    /// Initializers already written for a parameter (and how it was laid
    /// out), so a weight shared by two blocks is one initializer used twice.
    private var written: [ObjectIdentifier: [String: String]] = [:]
    private var counter = 0

    /// A fresh value name: `dense1/MatMul_3`.
    mutating func name(_ prefix: String) -> String {
        counter += 1
        return "\(prefix)_\(counter)"
    }

    /// Adds a node and returns its first output's name (its others are `outputs - 1` more, named apart).
    @discardableResult
    mutating func node(_ op: String, _ inputs: [String], in scope: String, outputs: Int = 1,
                       _ attributes: [Onnx_AttributeProto] = [], named given: String? = nil) -> String {
        let names = given.map { [$0] } ?? (0..<outputs).map { _ in name("\(scope)/\(op)") }
        var node = Onnx_NodeProto()
        node.opType = op
        node.name = names[0]
        node.input = inputs
        node.output = names
        node.attribute = attributes
        nodes.append(node)
        return names[0]
    }

    /// Like `node`, with every output's name returned.
    mutating func nodeOutputs(_ op: String, _ inputs: [String], in scope: String, outputs: Int,
                              _ attributes: [Onnx_AttributeProto] = []) -> [String] {
        node(op, inputs, in: scope, outputs: outputs, attributes)
        return nodes[nodes.count - 1].output
    }

    /// A float initializer of `shape`.
    mutating func constant(_ values: [Float], shape: [Int], named prefix: String) -> String {
        var tensor = Onnx_TensorProto()
        tensor.name = name(prefix)
        tensor.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        tensor.dims = shape.map(Int64.init)
        tensor.floatData = values
        initializers.append(tensor)
        return tensor.name
    }

    /// An int64 initializer of `shape` (shapes, indices, axes).
    mutating func integers(_ values: [Int], shape: [Int]? = nil, named prefix: String) -> String {
        var tensor = Onnx_TensorProto()
        tensor.name = name(prefix)
        tensor.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        tensor.dims = (shape ?? [values.count]).map(Int64.init)
        tensor.int64Data = values.map(Int64.init)
        initializers.append(tensor)
        return tensor.name
    }

    /// The initializer for `parameter` laid out by `layout` (named `tag`):
    /// written once, however many blocks use the parameter.
    mutating func weight(_ parameter: Parameter, scope: String, tag: String = "",
                         layout: (Parameter) -> (values: [Float], shape: [Int]) = { ($0.value.storage, $0.value.shape) }) -> String {
        let key = ObjectIdentifier(parameter)
        if let name = written[key]?[tag] { return name }
        let (values, shape) = layout(parameter)
        let name = constant(values, shape: shape, named: "\(scope)/\(parameter.name)\(tag.isEmpty ? "" : "_" + tag)")
        written[key, default: [:]][tag] = name
        return name
    }

    /// `Reshape` of `input` to `[batch] + shape` (batch as -1).
    mutating func reshape(_ input: String, to shape: [Int], in scope: String) -> String {
        let target = integers([-1] + shape, named: "\(scope)/shape")
        return node("Reshape", [input, target], in: scope)
    }

    /// `Transpose` of `input` by `perm`.
    mutating func transpose(_ input: String, _ perm: [Int], in scope: String) -> String {
        node("Transpose", [input], in: scope, [.ints("perm", perm)])
    }
}

extension Onnx_AttributeProto {
    static func int(_ name: String, _ value: Int) -> Self {
        var a = Self()
        a.name = name
        a.type = .int
        a.i = Int64(value)
        return a
    }

    static func float(_ name: String, _ value: Float) -> Self {
        var a = Self()
        a.name = name
        a.type = .float
        a.f = value
        return a
    }

    static func ints(_ name: String, _ values: [Int]) -> Self {
        var a = Self()
        a.name = name
        a.type = .ints
        a.ints = values.map(Int64.init)
        return a
    }

    static func floats(_ name: String, _ values: [Float]) -> Self {
        var a = Self()
        a.name = name
        a.type = .floats
        a.floats = values
        return a
    }

    static func string(_ name: String, _ value: String) -> Self {
        var a = Self()
        a.name = name
        a.type = .string
        a.s = Data(value.utf8)
        return a
    }

    static func strings(_ name: String, _ values: [String]) -> Self {
        var a = Self()
        a.name = name
        a.type = .strings
        a.strings = values.map { Data($0.utf8) }
        return a
    }
}
