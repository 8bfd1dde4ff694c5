import LoomCore
import LoomEngine
import LoomRender
#if canImport(Glibc)
import Glibc
#endif

extension Evaluator {
    func modelState(_ expr: Expr) throws(LoomError) -> ModelState {
        try object(expr, ModelState.self)
    }

    /// The model a block defines, built and checked but not yet named in the session;
    /// `dictionaries` gives LISTA blocks their starting atoms by block name (a saved or copied model's).
    func buildModel(name: String, layers: [Command], range: SourceRange,
                    dictionaries: [String: SparseDictionary] = [:]) throws(LoomError) -> Sequential {
        guard let first = layers.first, first.signature.keyword == "input" else {
            throw LoomError(.value, "a model starts with `input DIMS`, the shape of one sample", at: layers.first?.range ?? range)
        }
        let shape = try Arguments(command: first, evaluator: self).shape("shape")
        let model: Sequential
        do { model = try Sequential(name: name, inputShape: shape, random: RandomGenerator(seed: session.random.next())) } catch {
            throw LoomError(.value, error.message, at: first.range)
        }
        model.maxParameters = memoryBudget / Sequential.bytesPerWeight
        for layer in layers.dropFirst() {
            let given = layer.argument("as")?.name?.joined(separator: ".")
            let spec = try withDictionary(layerSpec(layer), given: given.flatMap { dictionaries[$0] }, at: layer.range)
            let lender = layer.argument(Layers.share.name)?.name?.joined(separator: ".")
            let needed: Int, bytes: Int
            do { (needed, bytes) = (try spec.parameterCount(input: model.outputShape), try spec.heldBytes(input: model.outputShape)) } catch {
                throw LoomError(.value, "`\(layer.signature.keyword)` is too large to build", at: layer.range)
            }
            // A `share` line keeps no weights of its own (it uses the lender's, which `add` checks it needs no more than),
            // only what it holds beside them (a hashed line's code table and virtual matrix).
            let own = lender == nil ? bytes : max(0, bytes - MemoryAccount.product(needed, Sequential.bytesPerWeight))
            if lender == nil || own > 0 {
                try checkMemory(bytes: own, what: "`\(layer.signature.keyword)` (\(NumberFormat.grouped(needed)) weights)", at: layer.range)
            }
            do { try model.add(spec, name: given, sharing: lender) } catch {
                throw LoomError(.value, "`\(layer.signature.keyword)` does not fit here: \(error.message)", at: layer.range)
            }
        }
        do { try model.spreadSparsityByERK() } catch { throw LoomError(.value, error.message, at: range) }
        try checkMemory(bytes: model.heldBytes, what: "model `\(name)`", at: range)
        return model
    }

    /// One line of a model block as its family's engine spec.
    func layerSpec(_ c: Command) throws(LoomError) -> any LayerSpec {
        if c.signature.keyword == "input" { throw LoomError(.value, "`input` comes once, as the first layer", at: c.range) }
        // The parser only makes commands of the families `Layers` binds.
        guard let binding = Layers.binding(c.signature.keyword) else { preconditionFailure("no layer binding for \(c.signature.keyword)") }
        return try binding.read(Arguments(command: c, evaluator: self))
    }

    // MARK: summary

    /// The parameter-sharing report: per layer, what is stored, what the same
    /// connections would cost unshared (locally connected), what a fully
    /// connected layer between the same input and output would cost.
    func summaryTable(_ model: Sequential) -> Table {
        let summary = model.sharingSummary
        var table = Table(title: "Model \(model.name): input \(Shape.text(model.inputShape))",
                          columns: [.init("layer"), .init("output"), .init("params", .right), .init("unshared", .right),
                                    .init("dense", .right), .init("sharing", .right), .init("MACs", .right)],
                          note: "params: stored weights and biases. unshared: the same connections without sharing "
                            + (summary.unrollsOverSteps
                               ? "(a locally connected layer; a recurrent layer unrolled, a copy of its weights per step). "
                               : "(a locally connected layer). ")
                            + "dense: a fully connected layer between the same input and "
                            + "output. sharing: unshared ÷ params. MACs: multiply-adds per sample."
                            + (summary.blocks.contains { $0.borrows != nil } ? " " + Self.borrowingNote : "")
                            + summary.blocks.compactMap(formNote).joined())
        func cells(_ row: SharingRow) -> [String] {
            [row.name, row.outputShape.isEmpty ? "" : Shape.text(row.outputShape), NumberFormat.grouped(row.stored),
             NumberFormat.grouped(row.unshared), NumberFormat.grouped(row.dense), row.borrows.map(borrowingText)
                ?? row.sharing.map(sharingText) ?? "", NumberFormat.grouped(row.multiplyAdds)]
        }
        for row in summary.blocks { table.append(cells(row)) }
        table.footer = cells(summary.total)
        let grouped = summary.blocks.compactMap(groupingText)
        if !grouped.isEmpty { table.note! += " Grouping channels, against a full conv2d: " + grouped.joined(separator: "; ") + "." }
        // Clustered kernels get a column of their shared values; other models' tables stay as they were.
        let clusters = model.blocks.map(clusterCell)
        guard clusters.contains(where: { !$0.isEmpty }) else { return table }
        table.columns.append(.init("values", .right))
        table.rows = zip(table.rows, clusters).map { $0 + [$1] }
        table.footer?.append("")
        table.note = (table.note ?? "") + " values: a clustered kernel's shared values × the bits of an index."
        return table
    }

    /// A sentence on a block whose sharing the counts alone do not tell.
    func formNote(_ row: SharingRow) -> String? {
        switch row.form {
        case .unsharedTwin(let convolution, let positions)?:
            return " \(row.name) is a convolution's unshared twin: one of the same shape stores "
                + "\(NumberFormat.grouped(convolution)) weights and biases, one kernel where \(row.name) keeps one "
                + "at each of its \(NumberFormat.grouped(positions)) positions (1/\(NumberFormat.grouped(positions)) of its kernels)."
        case .hashed(let virtual, let real)?:
            return " \(row.name) is hashed: its \(NumberFormat.grouped(virtual)) virtual weights are drawn from "
                + "\(NumberFormat.grouped(real)) real ones, each used \(NumberFormat.short(Double(virtual) / Double(real), significant: 3)) "
                + "times on average."
        case nil: return nil
        }
    }

    /// `conv2 stores 4× fewer weights (2,320 against 9,280) and does 4× fewer multiply-adds`,
    /// for a block that convolves channels in groups.
    func groupingText(_ row: SharingRow) -> String? {
        guard let full = row.fullConvolution, row.stored > 0, row.multiplyAdds > 0 else { return nil }
        let weights = Double(full.parameters) / Double(row.stored), work = Double(full.multiplyAdds) / Double(row.multiplyAdds)
        return "\(row.name) stores \(sharingText(weights)) fewer weights (\(NumberFormat.grouped(row.stored)) against "
            + "\(NumberFormat.grouped(full.parameters))) and does \(sharingText(work)) fewer multiply-adds "
            + "(\(NumberFormat.grouped(row.multiplyAdds)) against \(NumberFormat.grouped(full.multiplyAdds)))"
    }

    /// `36×`
    func sharingText(_ factor: Double) -> String { NumberFormat.short(factor, significant: 3) + "×" }

    /// `shares h1`, `tied h1`: a block on another block's parameters.
    func borrowingText(_ borrowing: SharingRow.Borrowing) -> String {
        switch borrowing {
        case .shares(let lender): return "shares \(lender)"
        case .tied(let lender): return "tied \(lender)"
        }
    }

    static let borrowingNote = "shares L: the layer uses L's weights and biases; tied L: L's kernel transposed, with a bias "
        + "of its own. A parameter is stored and counted once, in the layer that makes it; the total's sharing counts every use."

    func summary(_ a: Request<ModelRequest>) throws(LoomError) {
        let state = try modelState(a.model.expr)
        var table = summaryTable(state.model)
        table.note = (table.note.map { $0 + " " } ?? "") + storageLine(state)
        show(table.bundle(width: session.width))
    }
}

extension Evaluator {
    /// `model NEW = copy M [fresh]`: the same layers (by their definition),
    /// the same weights, masks and layer state (k-winners' duty cycles) —
    /// or, with `fresh`, new initial weights under the same masks and fresh
    /// state — and the same epochs, history and pruning rounds. Nothing is
    /// shared: training one leaves the other as it was.
    func copyModel(_ a: Request<CopyRequest>) throws(LoomError) {
        let source = try modelState(a.model.expr)
        let name = a.defined
        let fresh = a.fresh
        guard case .model(_, let layers, _)? = try? Parser.parse(source.definition).first else {
            preconditionFailure("a model's definition always parses")
        }
        // A plain copy draws nothing from the session's seed.
        let saved = session.random
        let model = try buildModel(name: name, layers: layers, range: a.range,
                                   dictionaries: Dictionary(source.listaDictionaries, uniquingKeysWith: { first, _ in first }))
        if !fresh { session.random = saved }
        if fresh {
            for (from, to) in zip(source.model.parameters, model.parameters) where from.mask != nil {
                try? to.setMask(from.mask, blockPattern: from.blockPattern)
            }
        } else {
            // What `save` keeps and `load` reads back: weights, masks, the layers' state.
            do { try model.load(weightsOf: source.model) } catch { throw LoomError(.value, error.message, at: a.range) }
            // An N:M pattern travels beside the masks (see `Parameter.blockPattern`).
            for (from, to) in zip(source.model.parameters, model.parameters) where from.blockPattern != nil {
                try? to.setMask(to.mask, blockPattern: from.blockPattern)
            }
        }
        let copy = fresh ? ModelState(model: model) : ModelState(model: model, initialWeights: source.initialWeights)
        copy.epochsTrained = source.epochsTrained
        copy.history = source.history
        copy.reconstructionLoss = source.reconstructionLoss
        copy.trainedOnLasso = source.trainedOnLasso
        copy.pruning = source.pruning
        if !fresh { copy.keptEpochs = source.keptEpochs }
        session.define(name, .object(copy))
        show(MimeBundle(text: "\(name): a copy of \(a.model.text)" + (fresh ? " with fresh initial weights" : "")
                        + ", \(copy.describe)"))
    }
}
