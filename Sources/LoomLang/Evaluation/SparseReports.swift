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
    /// the most used first when codes have been made with it.
    func showAtoms(_ a: Arguments) throws(LoomError) -> MimeBundle {
        let name = try a.name("dictionary")
        let d = try sparseDictionary(try a.expression("dictionary"))
        let first = try a.integer("first")
        let count = d.dictionary.count
        var order = Array(0..<count)
        var title = "\(name): \(count) atoms of \(Shape.text(d.sampleShape))"
        if let usage = d.usage {
            order.sort { usage[$0] != usage[$1] ? usage[$0] > usage[$1] : $0 < $1 }
            title += ", the most used first"
        }
        let shown = Array(order.prefix(first))
        if shown.count < count { title += " (the first \(shown.count))" }
        let values = shown.flatMap { d.dictionary.atom($0) }
        return plot(ImageGrid(rowsOf: imageRows(values, d), shape: d.imageShape, labels: shown.map { "a\($0 + 1)" },
                              title: title, maxSide: 14))
    }

    /// `show codes C [sample I]`: how well and how sparsely C codes its data;
    /// with `sample`, one sample rebuilt from its atoms.
    func showCodes(_ a: Arguments) throws(LoomError) -> MimeBundle {
        let name = try a.name("codes")
        let c = try sparseCodes(try a.expression("codes"))
        if a.given("sample") {
            return try showCodedSample(c, name: name, sample: try a.integer("sample", within: 1...max(1, c.codes.samples)))
        }
        let codes = c.codes
        let nonzeros = codes.nonzerosPerSample, usage = codes.usage
        var table = Table(title: "\(name): \(c.dataName) coded over \(c.dictionaryName) by \(c.coder)",
                          columns: [.init("measure"), .init("value", .right)])
        table.append(["samples", NumberFormat.grouped(codes.samples)])
        table.append(["relative error ‖X − CD‖/‖X‖", NumberFormat.fixed(c.relativeError, decimals: 4)])
        table.append(["nonzeros per code, mean", NumberFormat.fixed(c.meanNonzeros, decimals: 2)])
        table.append(["nonzeros per code, max", String(nonzeros.max() ?? 0)])
        table.append(["zeros", NumberFormat.percent(codes.zeroFraction)])
        table.append(["atoms used", "\(usage.filter { $0 > 0 }.count) of \(codes.atoms)"])
        if codes.dependentStops > 0 { table.append(["stopped on dependent atoms", NumberFormat.grouped(codes.dependentStops)]) }
        table.append(["time to code", duration(c.seconds)])
        var figures = [table.bundle(width: session.width)]
        if let steps = codes.residualByStep, steps.count > 2, steps[0] > 0 {
            figures.append(plot(LinePlot([(name: "relative error", values: steps.dropFirst().map { ($0 / steps[0]).squareRoot() })],
                               title: "relative error against nonzeros per code (1 to \(steps.count - 1))",
                               xLabel: "nonzeros", height: 8)))
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
        let i = sample - 1, d = c.dictionary, n = d.dictionary.length
        let code = Array(c.codes.code(i))
        let used = code.indices.filter { code[$0] != 0 }.sorted { abs(code[$0]) > abs(code[$1]) }
        let original = Array(c.signals.storage[(i * n)..<((i + 1) * n)])
        var rebuilt = [Float](repeating: 0, count: n)
        for k in used { for (t, v) in d.dictionary.atom(k).enumerated() { rebuilt[t] += code[k] * v } }
        let residual = zip(original, rebuilt).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }
        let energy = original.reduce(0.0) { $0 + Double($1) * Double($1) }
        let error = energy > 0 ? (residual / energy).squareRoot() : 0
        show(plot(ImageGrid(rowsOf: imageRows(original + rebuilt, d), shape: d.imageShape, labels: ["sample", "rebuilt"],
                            title: "\(name) sample \(sample): \(used.count) atom(s), relative error "
                                + NumberFormat.fixed(error, decimals: 4) + (d.centered ? " (centred)" : ""), maxSide: 14)))
        guard !used.isEmpty else { return MimeBundle(text: "(the code is all zeros)") }
        let weighted = used.flatMap { k in d.dictionary.atom(k).map { $0 * code[k] } }
        let sum = used.enumerated().map { j, k in
            let w = NumberFormat.short(Double(abs(code[k])), significant: 3) + "·a\(k + 1)"
            return j == 0 ? (code[k] < 0 ? "−" : "") + w : (code[k] < 0 ? " − " : " + ") + w
        }.joined()
        return plot(ImageGrid(rowsOf: imageRows(weighted, d), shape: d.imageShape, labels: used.map { "a\($0 + 1)" },
                              title: "rebuilt = \(sum): each atom times its weight", maxSide: 14))
    }
}
