import LoomCore
import LoomEngine
import LoomRender

extension Evaluator {
    func sparseCodes(_ expr: Expr) throws(LoomError) -> SessionCodes { try object(expr, SessionCodes.self) }

    /// Rows of `values` (each `length` long) as images of the dictionary's sample shape.
    func imageRows(_ values: [Float], _ d: SessionDictionary) -> Matrix {
        Matrix(rows: values.count / d.dictionary.length, columns: d.dictionary.length, values: values.map(Double.init))
    }

    /// `show atoms D [first N]`: the atoms as images on one shared scale,
    /// the most used first when codes have been made with it. `show atoms
    /// M.LAYER`: a dense layer's (see `showLayerAtoms`).
    func showAtoms(_ a: Request<AtomsRequest>) throws(LoomError) -> MimeBundle {
        let name = a.source.text
        if let parts = a.source.expr.name, parts.count >= 2,
           case .object(let object)? = session[parts.dropLast().joined(separator: ".")], object is ModelState {
            return try showLayerAtoms(a)
        }
        if let parts = a.source.expr.name, case .object(let object)? = session[parts.joined(separator: ".")],
           let state = object as? ModelState {
            let dense = state.model.blocks.filter { $0.main is Dense }.map { "\(name).\($0.name)" }
            throw LoomError(.type, "`\(name)` is a model: name one of its dense layers"
                            + (dense.isEmpty ? " (it has none)" : " (\(dense.joined(separator: ", ")))"), at: a.source.range)
        }
        let d = try sparseDictionary(a.source.expr)
        let first = a.first
        let count = d.dictionary.count
        let order = d.usage.map(SparseCodes.atomsByUse) ?? Array(0..<count)
        var title = "\(name): \(count) atoms of \(Shape.text(d.sampleShape))"
        if d.usage != nil { title += ", the most used first" }
        let shown = Array(order.prefix(first))
        if shown.count < count { title += " (the first \(shown.count))" }
        let values = shown.flatMap { d.dictionary.atom($0) }
        return plot(ImageGrid(rowsOf: imageRows(values, d), shape: d.imageShape, labels: shown.map { "a\($0 + 1)" },
                              title: title, maxSide: 14))
    }

    /// `show atoms M.LAYER [first N]`: a dense layer's weights as images of
    /// the model's input, on one shared scale: an encoder's units or a
    /// decoder's inputs (a tied decoder shows its encoder's).
    func showLayerAtoms(_ a: Request<AtomsRequest>) throws(LoomError) -> MimeBundle {
        let (state, block) = try layer(a.source.expr)
        let atoms: LayerAtoms
        do { atoms = try state.model.atoms(of: block) } catch { throw LoomError(.value, error.message, at: a.source.range) }
        let shown = min(a.first, atoms.count)
        let input = Shape.text(state.model.inputShape)
        var title = atoms.role == .encoder
            ? "\(a.source.text): \(atoms.count) units' weights from the \(input) input"
            : "\(a.source.text): \(atoms.count) inputs' weights to the \(input) output"
        if shown < atoms.count { title += " (the first \(shown))" }
        let prefix = atoms.role == .encoder ? "u" : "in"
        return plot(ImageGrid(rowsOf: Matrix(rows: shown, columns: atoms.length, values: atoms.values.prefix(shown * atoms.length).map(Double.init)),
                              shape: pictureShape(state.model.inputShape), labels: (0..<shown).map { "\(prefix)\($0 + 1)" },
                              title: title, maxSide: 14))
    }

    /// `show codes C [sample I]`: how well and how sparsely C codes its data;
    /// with `sample`, one sample rebuilt from its atoms.
    func showCodes(_ a: Request<CodesRequest>) throws(LoomError) -> MimeBundle {
        let name = a.codes.text
        let c = try sparseCodes(a.codes.expr)
        if let sample = try a.integer(\.sample, within: 1...max(1, c.codes.samples)) {
            return try showCodedSample(c, name: name, sample: sample)
        }
        let codes = c.codes
        let usage = codes.usage
        var table = Table(title: "\(name): \(c.dataName) coded over \(c.dictionaryName) by \(c.coder)",
                          columns: [.init("measure"), .init("value", .right)])
        table.append(["samples", NumberFormat.grouped(codes.samples)])
        table.append(["relative error ‖X − CD‖/‖X‖", NumberFormat.fixed(c.relativeError, decimals: 4)])
        table.append(["nonzeros per code, mean", NumberFormat.fixed(c.meanNonzeros, decimals: 2)])
        table.append(["nonzeros per code, max", String(codes.maxNonzeros)])
        table.append(["zeros", NumberFormat.percent(codes.zeroFraction)])
        table.append(["atoms used", "\(codes.atomsUsed) of \(codes.atoms)"])
        if codes.dependentStops > 0 { table.append(["stopped on dependent atoms", NumberFormat.grouped(codes.dependentStops)]) }
        if let objectives = codes.objectiveByIteration, let last = objectives.last {
            table.append(["objective ½‖X − CD‖² + alpha‖C‖₁", NumberFormat.short(last, significant: 6)])
            table.append(["iterations", NumberFormat.grouped(objectives.count - 1)])
        }
        table.append(["time to code", duration(c.seconds)])
        var figures = [table.bundle(width: session.width)]
        if let errors = codes.relativeErrorByStep, errors.count > 1 {
            figures.append(plot(LinePlot([(name: "relative error", values: errors)],
                               title: "relative error against nonzeros per code (1 to \(errors.count))",
                               xLabel: "nonzeros", height: 8)))
        }
        if let objectives = codes.objectiveByIteration, objectives.count > 2 {
            figures.append(plot(LinePlot([(name: "objective", values: Array(objectives.dropFirst()))],
                                         title: "objective by iteration (1 to \(objectives.count - 1))", xLabel: "iteration", height: 8)))
        }
        figures.append(plot(Histogram(usage.map(Double.init), bins: 10,
                            title: "atom usage: how many atoms (bars) are used by how many codes (bins)")))
        let slice = min(codes.samples, 48)
        figures.append(plot(SpyPlot(Matrix(rows: slice, columns: codes.atoms, values: codes.values[0..<(slice * codes.atoms)].map(Double.init)),
                          title: "the first \(slice) codes (rows) over \(codes.atoms) atoms (columns)", maxRows: 12)))
        if c.dictionary.costs.count > 1 {
            figures.append(plot(LinePlot([(name: "relative error", values: c.dictionary.costs)],
                                         title: "\(c.dictionaryName)'s learning: cost by iteration", xLabel: "iteration", height: 8)))
        }
        figures.dropLast().forEach(show)
        return figures.last!
    }

    /// One sample: the original beside its reconstruction, then each of its
    /// atoms times its weight (they add up to the reconstruction).
    func showCodedSample(_ c: SessionCodes, name: String, sample: Int) throws(LoomError) -> MimeBundle {
        let d = c.dictionary
        let coded = CodedSample(sample: sample - 1, codes: c.codes, dictionary: d.dictionary, signals: c.signals)
        show(plot(ImageGrid(rowsOf: imageRows(coded.signal + coded.rebuilt, d), shape: d.imageShape, labels: ["sample", "rebuilt"],
                            title: "\(name) sample \(sample): \(coded.terms.count) atom(s), relative error "
                                + NumberFormat.fixed(coded.relativeError, decimals: 4) + (d.centered ? " (centred)" : ""), maxSide: 14)))
        guard !coded.terms.isEmpty else { return MimeBundle(text: "(the code is all zeros)") }
        let sum = coded.terms.enumerated().map { j, term in
            let w = NumberFormat.short(Double(abs(term.weight)), significant: 3) + "·a\(term.atom + 1)"
            return j == 0 ? (term.weight < 0 ? "−" : "") + w : (term.weight < 0 ? " − " : " + ") + w
        }.joined()
        return plot(ImageGrid(rowsOf: imageRows(coded.weightedAtoms, d), shape: d.imageShape, labels: coded.terms.map { "a\($0.atom + 1)" },
                              title: "rebuilt = \(sum): each atom times its weight", maxSide: 14))
    }
}
