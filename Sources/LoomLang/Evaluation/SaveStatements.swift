import LoomCore
import LoomEngine
import LoomRender
#if canImport(Glibc)
import Glibc
#endif

extension Evaluator {
    /// `save NAME PATH`: any object that can be saved, as safetensors with
    /// its format and the rest of what rebuilds it in the metadata.
    func save(_ a: Request<FileRequest>) throws(LoomError) {
        let name = a.name.text, expr = a.name.expr
        guard let item = session[name] else { throw unknownName(name, at: expr.range) }
        guard case .object(let object) = item, let file = object.savedFile(as: name) else {
            throw LoomError(.type, "`\(name)` is a \(item.kindNoun); `save` writes models, data sets, dictionaries and results tables", at: expr.range)
        }
        let path = a.path
        do { try Ranks.current.writeOnRankZero(file.bytes, to: path) } catch {
            throw LoomError(.io, "cannot write \(error.description)", at: a.range(of: \.path))
        }
        show(MimeBundle(text: "Saved \(file.summary) to \(path)"))
    }

    /// Checks, before any work, that `what` (`the checkpoint`) can be
    /// written at `path`: the path names a file, not a folder, in a folder
    /// that exists and can be written, and an existing file there can be
    /// written too.
    func checkWritable(_ what: String, at path: String, range: SourceRange?) throws(LoomError) {
        func refuse(_ reason: String) -> LoomError { LoomError(.io, "cannot write \(what) \(path): \(reason)", at: range) }
        guard !path.isEmpty else { throw LoomError(.io, "\(what) needs a file name, not an empty one", at: range) }
        let folder = path.lastIndex(of: "/").map { path[..<$0].isEmpty ? "/" : String(path[..<$0]) } ?? "."
        var info = stat()
        guard stat(folder, &info) == 0 else {
            throw refuse(errno == ENOENT ? "there is no folder \(folder)" : String(cString: strerror(errno)))
        }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw refuse("\(folder) is not a folder") }
        guard access(folder, W_OK) == 0 else { throw refuse("the folder \(folder) is not writable") }
        guard stat(path, &info) == 0 else {
            if errno == ENOENT { return }
            throw refuse(String(cString: strerror(errno)))
        }
        guard info.st_mode & S_IFMT == S_IFREG else { throw refuse("it is a folder, FIFO or device, not a file") }
        guard access(path, W_OK) == 0 else { throw refuse("the file is read-only") }
    }

    /// An object as safetensors, through a temporary file and a rename (a
    /// reader never sees half a file); under several ranks, by rank 0 alone.
    func write(_ saved: SavedObject, to path: String) throws(FileError) {
        try Ranks.current.writeOnRankZero(saved.file.bytes, to: path)
    }

    /// `load NAME PATH`: the kind the file's format names rebuilds the object;
    /// the name is bound only once everything in the file has been checked.
    func load(_ a: Request<FileRequest>) throws(LoomError) {
        let (bytes, path) = try fileBytes(a, \.path)
        // The file and the tensors decoded from it, side by side.
        try checkMemory(bytes: MemoryAccount.product(bytes.count, 2), what: path, at: a.range)
        let decoded: (tensors: [String: Tensor], metadata: [String: String])
        let file: (tensors: [String: StoredTensor], metadata: [String: String])
        let whole: Int?
        do {
            file = try SafeTensors.read(bytes, source: path)
            whole = try CompactWeights.unpackedBytes(metadata: file.metadata, source: path)
        } catch { throw LoomError(.value, error.message, at: a.range) }
        // Weights in the compact layout are made whole (floats, mask, codes): counted before they are made.
        try checkMemory(bytes: whole ?? Int.max, what: "\(path)'s weights made whole", at: a.range)
        do { decoded = (try CompactWeights.unpack(file.tensors, metadata: file.metadata, source: path), file.metadata) } catch {
            throw LoomError(.value, error.message, at: a.range)
        }
        guard let kind = decoded.metadata[SavedKinds.formatKey].flatMap(SavedKinds.kind(for:)) else {
            throw LoomError(.value, "\(path) holds tensors but no Loom model definition; Loom loads files made by `save`",
                            at: a.range)
        }
        let name = a.name.text
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

    /// Weights named `layer.kernel` and `layer.bias`, masks and the layers'
    /// state (see `Sequential.weightTensors`); the definition (as a `model`
    /// block Loom reads back), the epochs trained, the loss of a model trained
    /// to reconstruct its inputs or on the lasso objective and any pruning
    /// rounds in the metadata. Not
    /// the initial weights: a loaded model cannot `rewind`.
    var saved: SavedObject {
        let tensors = model.weightTensors + startingDictionaryTensors
        var metadata = [("loom.definition", definition), ("loom.epochs", String(epochsTrained))]
        if let loss = reconstructionLoss { metadata.append((Self.reconstructionKey, loss.rawValue)) }
        if trainedOnLasso { metadata.append((Self.lossKey, Loss.lasso.rawValue)) }
        if !pruning.isEmpty { metadata.append((Self.pruningKey, PruningRound.text(pruning))) }
        return SavedObject(format: Self.format, tensors: tensors, metadata: metadata,
                           summary: "\(model.name) (\(NumberFormat.grouped(model.parameterCount)) parameters, \(tensors.count) tensors)")
    }

    /// The model as a `model` block, every layer named: each line as its
    /// family's fields write it (options at their defaults left out), with
    /// `share LAYER` where it uses another layer's parameters.
    var definition: String {
        var lines = ["model \(model.name) {", "  input \(Shape.text(model.inputShape))"]
        for block in model.blocks {
            guard let text = Layers.definition(of: block.spec) else {
                preconditionFailure("no layer binding writes \(type(of: block.spec))")
            }
            let share = block.sharedFrom.map { " \(Layers.share.name) \($0)" } ?? ""
            lines.append("  \(text)\(share) as \(block.name)")
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
        let model = try evaluator.buildModel(name: name, layers: layers, range: range,
                                             dictionaries: try startingDictionaries(in: tensors, path: path, evaluator: evaluator, at: range))
        do { try model.load(weights: tensors, source: path) } catch { throw LoomError(.value, error.message, at: range) }
        let state = ModelState(model: model, initialWeights: nil)
        state.epochsTrained = Int(metadata["loom.epochs"] ?? "") ?? 0
        if let name = metadata[reconstructionKey] {
            guard let loss = Loss(rawValue: name) else {
                throw LoomError(.value, "\(path): \(reconstructionKey) names no loss Loom knows (`\(name)`)", at: range)
            }
            state.reconstructionLoss = loss
        }
        state.trainedOnLasso = metadata[lossKey] == Loss.lasso.rawValue
        if let text = metadata[pruningKey] {
            guard let rounds = PruningRound.read(text) else {
                throw LoomError(.value, "\(path): its pruning rounds (\(pruningKey)) do not read", at: range)
            }
            state.pruning = rounds
        }
        return state
    }

    /// Each LISTA block's starting atoms as `BLOCK.dictionary` (atoms × values):
    /// a saved LISTA model carries the dictionary it started from, so `load`
    /// needs no dictionary of that name in the session.
    var startingDictionaryTensors: [(name: String, tensor: Tensor)] {
        listaDictionaries.map { ("\($0.block).\(Self.dictionarySuffix)", Tensor(shape: [$0.atoms.count, $0.atoms.length], storage: $0.atoms.atoms)) }
    }

    /// Each LISTA block's starting dictionary, in the model's order.
    var listaDictionaries: [(block: String, atoms: SparseDictionary)] {
        model.blocks.compactMap { block in (block.main as? Lista).map { (block.name, $0.dictionary) } }
    }

    /// The starting atoms a saved file holds for its LISTA blocks, by block
    /// name, checked as a dictionary read from a file is; none in files
    /// saved before they were kept (their `lista` lines then find the
    /// dictionary in the session).
    static func startingDictionaries(in tensors: [String: Tensor], path: String, evaluator: Evaluator,
                                     at range: SourceRange) throws(LoomError) -> [String: SparseDictionary] {
        var found: [String: SparseDictionary] = [:]
        for (name, tensor) in tensors where name.hasSuffix("." + dictionarySuffix) {
            guard tensor.shape.count == 2 else {
                throw LoomError(.value, "\(path): \(name) is \(Shape.text(tensor.shape)), not atoms × values", at: range)
            }
            found[String(name.dropLast(dictionarySuffix.count + 1))] =
                try SessionDictionary.checkedDictionary(tensor.storage, count: tensor.shape[0], length: tensor.shape[1],
                                                        source: "\(path) (\(name))", at: range, evaluator: evaluator)
        }
        return found
    }

    static let dictionarySuffix = "dictionary"
    static let pruningKey = "loom.pruning"
    /// The loss `evaluate`, `compare` and `predict` measure reconstructions with (`ModelState.reconstructionLoss`).
    static let reconstructionKey = "loom.reconstruction"
    /// `lasso` for a model last trained with `loss lasso` (`ModelState.trainedOnLasso`).
    static let lossKey = "loom.loss"
}

extension PruningRound {
    /// Rounds as a JSON array of `{"sparsity", "nonzero", "data", "accuracy",
    /// "loss"}` (figures not measured left out), for a saved model's metadata.
    static func text(_ rounds: [PruningRound]) -> String {
        let items = rounds.map { r -> JSON in
            var members: [(String, JSON)] = [("sparsity", .double(r.sparsity))]
            if let nonzero = r.nonzeroParameters { members.append(("nonzero", .int(nonzero))) }
            if let data = r.data { members.append(("data", .string(data))) }
            if let accuracy = r.accuracy { members.append(("accuracy", .double(accuracy))) }
            if let loss = r.loss { members.append(("loss", .double(loss))) }
            return .object(JSONObject(members))
        }
        return String(decoding: JSON.array(items).serialized(), as: UTF8.self)
    }

    /// The rounds `text` wrote; nil when the text is not such an array.
    /// Rounds saved before nonzero counts were kept have none.
    static func read(_ text: String) -> [PruningRound]? {
        guard let items = (try? JSON.parse(text))?.arrayValue else { return nil }
        var rounds: [PruningRound] = []
        for item in items {
            guard let sparsity = item["sparsity"]?.doubleValue, (0...1).contains(sparsity) else { return nil }
            var nonzero: Int?
            if let value = item["nonzero"] {
                guard let count = value.intValue, count >= 0 else { return nil }
                nonzero = count
            }
            rounds.append(PruningRound(sparsity: sparsity, nonzeroParameters: nonzero, data: item["data"]?.stringValue,
                                       accuracy: item["accuracy"]?.doubleValue, loss: item["loss"]?.doubleValue))
        }
        return rounds
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
