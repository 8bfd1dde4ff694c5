import LoomCore
import LoomEngine
import LoomRender

extension Evaluator {
    static let formatKey = "loom.format", formatValue = "loom-model-1"

    /// The model as a `model` block Loom can read back: every option spelt
    /// out, every layer named.
    func definition(of model: Sequential) -> String {
        var lines = ["model \(model.name) {", "  input \(Shape.text(model.inputShape))"]
        for block in model.blocks {
            guard let text = Layers.definition(of: block.spec) else {
                preconditionFailure("no layer binding writes \(type(of: block.spec))")
            }
            lines.append("  \(text) as \(block.name)")
        }
        return (lines + ["}"]).joined(separator: "\n")
    }

    /// `save NAME PATH`: the weights as safetensors, named `layer.kernel` and
    /// `layer.bias`, with the definition and training state in the metadata.
    func save(_ a: Arguments) throws(LoomError) {
        let state = try a.model("name")
        let path = try a.string("path")
        var tensors: [(name: String, tensor: Tensor)] = []
        for block in state.model.blocks {
            for p in block.parameters { tensors.append(("\(block.name).\(p.name)", p.value)) }
        }
        let metadata = [(Evaluator.formatKey, Evaluator.formatValue), ("loom.definition", definition(of: state.model)),
                        ("loom.epochs", String(state.epochsTrained)), ("loom.version", LoomLangVersion.value)]
        let bytes = SafeTensors.encode(tensors, metadata: metadata)
        do { try Files.writeAtomically(bytes, to: path) } catch {
            throw LoomError(.io, "cannot write \(error.description)", at: a.range(of: "path"))
        }
        show(MimeBundle(text: "Saved \(state.model.name) (\(NumberFormat.grouped(state.model.parameterCount)) parameters, "
                        + "\(tensors.count) tensors) to \(path)"))
    }

    /// `load NAME PATH`: rebuilds the model from its definition and sets its
    /// weights, checking every tensor's name and shape.
    func load(_ a: Arguments) throws(LoomError) {
        let (bytes, path) = try fileBytes(a, "path")
        let range = a.range
        let decoded: (tensors: [String: Tensor], metadata: [String: String])
        do { decoded = try SafeTensors.decode(bytes, source: path) } catch { throw LoomError(.value, error.message, at: range) }
        guard decoded.metadata[Evaluator.formatKey] == Evaluator.formatValue, let source = decoded.metadata["loom.definition"] else {
            throw LoomError(.value, "\(path) holds tensors but no Loom model definition; Loom loads files made by `save`", at: range)
        }
        let statements: [Statement]
        do { statements = try Parser.parse(source) } catch {
            throw LoomError(.value, "\(path): its model definition does not parse (\(error.summary))", at: range)
        }
        guard case .model(_, let layers, _)? = statements.first else {
            throw LoomError(.value, "\(path): its metadata holds no model block", at: range)
        }
        let name = try a.name("name")
        // Everything is checked before the name is bound: a file that does
        // not fit leaves whatever `name` held before.
        let model = try buildModel(name: name, layers: layers, range: range)
        for block in model.blocks {
            for p in block.parameters {
                let key = "\(block.name).\(p.name)"
                guard let tensor = decoded.tensors[key] else { throw LoomError(.value, "\(path) has no tensor \(key)", at: range) }
                guard tensor.shape == p.value.shape else {
                    throw LoomError(.value, "\(path): \(key) is \(Shape.text(tensor.shape)), the layer needs "
                                    + Shape.text(p.value.shape), at: range)
                }
                p.value = tensor
            }
        }
        let state = ModelState(model: model)
        state.epochsTrained = Int(decoded.metadata["loom.epochs"] ?? "") ?? 0
        session.define(name, .model(state))
        show(summaryTable(model).bundle(width: session.width))
        show(MimeBundle(text: "Loaded \(name) from \(path) (trained \(state.epochsTrained) epochs)"))
    }
}
