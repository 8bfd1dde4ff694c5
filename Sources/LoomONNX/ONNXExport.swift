import Foundation
import LoomEngine

/// A model written as a standard ONNX file (`export M "m.onnx"`), which
/// onnxruntime and every ONNX tool run with Loom's predictions. The graph
/// takes Loom's input layout (NHWC images, `[batch, steps, features]`
/// sequences) and gives its output; each layer becomes standard operators
/// of opset 17, its weights initializers.
public struct ONNXExport {
    /// The operator set the graph uses (ONNX 1.12's, which every current runtime reads).
    public static let opset = 17
    /// The IR version of opset 17 (ONNX 1.12).
    public static let irVersion = 8

    /// The serialized `ModelProto`.
    public let bytes: [UInt8]
    /// What the user should know about how the file stands for the model:
    /// weights written as their dense equivalents (pruned, clustered, hashed).
    public let notes: [String]

    /// Writes `model` as ONNX; throws, naming the layer, for a layer ONNX cannot express.
    public init(_ model: Sequential) throws(ONNXExportError) {
        var exporter = LayerExporter()
        var value = "input"
        for layer in model.layers {
            value = try exporter.export(layer, value)
        }
        let output = exporter.graph.node("Identity", [value], in: "output", named: "output")
        var graph = Onnx_GraphProto()
        graph.name = model.name
        graph.node = exporter.graph.nodes
        graph.initializer = exporter.graph.initializers
        graph.input = [Self.valueInfo("input", shape: model.inputShape)]
        graph.output = [Self.valueInfo(output, shape: model.outputShape)]
        var proto = Onnx_ModelProto()
        proto.irVersion = Int64(Self.irVersion)
        proto.producerName = "Loom"
        proto.graph = graph
        var opset = Onnx_OperatorSetIdProto()
        opset.domain = ""
        opset.version = Int64(Self.opset)
        proto.opsetImport = [opset]
        do { bytes = Array(try proto.serializedBytes() as [UInt8]) } catch {
            throw ONNXExportError(layer: model.name, reason: "the graph could not be serialized (\(error))")
        }
        notes = exporter.notes
    }

    /// A float tensor of `[batch] + shape`, the batch left free.
    static func valueInfo(_ name: String, shape: [Int]) -> Onnx_ValueInfoProto {
        var batch = Onnx_TensorShapeProto.Dimension()
        batch.dimParam = "batch"
        var tensorShape = Onnx_TensorShapeProto()
        tensorShape.dim = [batch] + shape.map { size in
            var d = Onnx_TensorShapeProto.Dimension()
            d.dimValue = Int64(size)
            return d
        }
        var tensor = Onnx_TypeProto.Tensor()
        tensor.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        tensor.shape = tensorShape
        var type = Onnx_TypeProto()
        type.tensorType = tensor
        var info = Onnx_ValueInfoProto()
        info.name = name
        info.type = type
        return info
    }
}

/// A layer ONNX cannot express, or a graph that could not be written.
public struct ONNXExportError: Error, CustomStringConvertible {
    public let layer: String
    public let reason: String
    public var description: String { "cannot export \(layer) to ONNX: \(reason)" }
}
