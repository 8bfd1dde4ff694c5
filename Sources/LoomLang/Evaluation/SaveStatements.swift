import LoomCore
import LoomEngine
import LoomRender

extension Evaluator {
    /// `save NAME PATH`: any object that can be saved, as safetensors with
    /// its format and the rest of what rebuilds it in the metadata.
    func save(_ a: Arguments) throws(LoomError) {
        let name = try a.name("name"), expr = try a.expression("name")
        guard let item = session[name] else { throw unknownName(name, at: expr.range) }
        guard case .object(let object) = item, let file = object.savedFile(as: name) else {
            throw LoomError(.type, "`\(name)` is a \(item.kindNoun); `save` writes models, data sets, dictionaries and results tables", at: expr.range)
        }
        let path = try a.string("path")
        do { try Files.writeAtomically(file.bytes, to: path) } catch {
            throw LoomError(.io, "cannot write \(error.description)", at: a.range(of: "path"))
        }
        show(MimeBundle(text: "Saved \(file.summary) to \(path)"))
    }

    /// An object as safetensors, through a temporary file and a rename (a
    /// reader never sees half a file).
    func write(_ saved: SavedObject, to path: String) throws(FileError) {
        try Files.writeAtomically(saved.file.bytes, to: path)
    }

    /// `load NAME PATH`: the kind the file's format names rebuilds the object;
    /// the name is bound only once everything in the file has been checked.
    func load(_ a: Arguments) throws(LoomError) {
        let (bytes, path) = try fileBytes(a, "path")
        // The file and the tensors decoded from it, side by side.
        try checkMemory(bytes: MemoryAccount.product(bytes.count, 2), what: path, at: a.range)
        let decoded: (tensors: [String: Tensor], metadata: [String: String])
        do { decoded = try SafeTensors.decode(bytes, source: path) } catch { throw LoomError(.value, error.message, at: a.range) }
        guard let kind = decoded.metadata[SavedKinds.formatKey].flatMap(SavedKinds.kind(for:)) else {
            throw LoomError(.value, "\(path) holds tensors but no Loom model definition; Loom loads files made by `save`",
                            at: a.range)
        }
        let name = try a.name("name")
        let object = try kind.restore(tensors: decoded.tensors, metadata: decoded.metadata, name: name, path: path,
                                      evaluator: self, at: a.range)
        session.define(name, .object(object))
        // One line: `summary` shows a model's table when it is wanted.
        show(MimeBundle(text: "Loaded \(name) from \(path): \(object.describe)"))
    }
}

extension ModelState: SavedKind {
    static let format = "loom-model-1"

    public func savedFile(as name: String) -> SavedFile? { saved.file }

    /// Weights named `layer.kernel` and `layer.bias` (see
    /// `Sequential.weightTensors`); the definition (as a `model` block Loom
    /// reads back) and the epochs trained in the metadata.
    var saved: SavedObject {
        let tensors = model.weightTensors
        return SavedObject(format: Self.format, tensors: tensors,
                           metadata: [("loom.definition", definition), ("loom.epochs", String(epochsTrained))],
                           summary: "\(model.name) (\(NumberFormat.grouped(model.parameterCount)) parameters, \(tensors.count) tensors)")
    }

    /// The model as a `model` block, every layer named: each line as its
    /// family's fields write it (options at their defaults left out).
    var definition: String {
        var lines = ["model \(model.name) {", "  input \(Shape.text(model.inputShape))"]
        for block in model.blocks {
            guard let text = Layers.definition(of: block.spec) else {
                preconditionFailure("no layer binding writes \(type(of: block.spec))")
            }
            lines.append("  \(text) as \(block.name)")
        }
        return (lines + ["}"]).joined(separator: "\n")
    }

    static func restore(tensors: [String: Tensor], metadata: [String: String], name: String, path: String,
                        evaluator: Evaluator, at range: SourceRange) throws(LoomError) -> ModelState {
        guard let source = metadata["loom.definition"] else {
            throw LoomError(.value, "\(path) holds tensors but no Loom model definition; Loom loads files made by `save`", at: range)
        }
        let statements: [Statement]
        do { statements = try Parser.parse(source) } catch {
            throw LoomError(.value, "\(path): its model definition does not parse (\(error.summary))", at: range)
        }
        guard case .model(_, let layers, _)? = statements.first else {
            throw LoomError(.value, "\(path): its metadata holds no model block", at: range)
        }
        let model = try evaluator.buildModel(name: name, layers: layers, range: range)
        do { try model.load(weights: tensors, source: path) } catch { throw LoomError(.value, error.message, at: range) }
        let state = ModelState(model: model)
        state.epochsTrained = Int(metadata["loom.epochs"] ?? "") ?? 0
        return state
    }
}

extension SessionDataset: SavedKind {
    static let format = "loom-data-1"

    public func savedFile(as name: String) -> SavedFile? { saved.file }

    /// The samples as `inputs`; class labels as `labels` (with their count in
    /// the metadata) or real-valued targets as `targets`.
    var saved: SavedObject {
        var tensors = [(name: "inputs", tensor: data.inputs)]
        var metadata: [(String, String)] = []
        switch data.targets {
        case .classes(let labels, let count):
            tensors.append(("labels", Tensor(shape: [labels.count], storage: labels.map(Float.init))))
            metadata.append(("loom.classes", String(count)))
            if let names = data.classNames { metadata.append(("loom.class_names", names.joined(separator: "\n"))) }
        case .values(let t): tensors.append(("targets", t))
        case .inputs, .none: break  // a reconstruction's targets are its inputs: nothing more to store
        }
        return SavedObject(format: Self.format, tensors: tensors, metadata: metadata,
                           summary: "\(NumberFormat.grouped(data.count)) samples of \(Shape.text(data.sampleShape))")
    }

    static func restore(tensors: [String: Tensor], metadata: [String: String], name: String, path: String,
                        evaluator: Evaluator, at range: SourceRange) throws(LoomError) -> SessionDataset {
        guard let inputs = tensors["inputs"], inputs.shape.count >= 2 else {
            throw LoomError(.value, "\(path) does not hold a data set's inputs", at: range)
        }
        let samples = inputs.shape[0]
        if let targets = tensors["targets"] {
            guard targets.shape.first == samples, targets.shape.count >= 2 else {
                throw LoomError(.value, "\(path): its targets do not match its \(samples) samples", at: range)
            }
            return SessionDataset(Dataset(inputs: inputs, targets: .values(targets)))
        }
        guard let labels = tensors["labels"] else { return SessionDataset(Dataset(inputs: inputs, targets: .none)) }
        guard labels.shape == [samples] else {
            throw LoomError(.value, "\(path): its labels do not match its \(samples) samples", at: range)
        }
        let classes: [Int]
        do { classes = try ClassLabels.read(labels.storage, source: path) } catch { throw LoomError(.value, error.message, at: range) }
        let count = max(Int(metadata["loom.classes"] ?? "") ?? 0, (classes.max() ?? -1) + 1)
        guard count <= ClassLabels.maximum else { throw LoomError(.value, "\(path): more classes than Loom allows", at: range) }
        var data = Dataset(inputs: inputs, labels: classes, classes: count)
        if let names = metadata["loom.class_names"]?.split(separator: "\n", omittingEmptySubsequences: false).map(String.init),
           names.count == count {
            data.classNames = names
        }
        return SessionDataset(data)
    }
}
