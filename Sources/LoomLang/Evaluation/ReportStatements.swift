import LoomCore
import LoomEngine
import LoomRender
#if canImport(Glibc)
import Glibc
#endif

extension Evaluator {
    /// `M.LAYER` → the model and the block.
    func layer(_ expr: Expr) throws(LoomError) -> (ModelState, Block) {
        guard let parts = expr.name else { throw LoomError(.syntax, "name a layer as MODEL.LAYER, like cnn.conv1", at: expr.range) }
        guard parts.count >= 2 else {
            throw LoomError(.syntax, "name a layer as MODEL.LAYER, like cnn.conv1", at: expr.range)
        }
        let modelName = parts.dropLast().joined(separator: ".")
        let state = try modelState(Expr(kind: .name(Array(parts.dropLast())), range: expr.range))
        guard let block = state.model.block(named: parts.last!) else {
            throw LoomError(.name, "`\(modelName)` has no layer `\(parts.last!)`", at: expr.range,
                            suggestion: closest(to: parts.last!, in: state.model.blocks.map(\.name)))
        }
        return (state, block)
    }

    func weights(_ expr: Expr) throws(LoomError) -> (Block, LoomEngine.Parameter) {
        let (_, block) = try layer(expr)
        guard let kernel = block.main.parameters.first else {
            throw LoomError(.value, "`\(block.name)` (\(block.main.kind)) has no weights", at: expr.range)
        }
        return (block, kernel)
    }

    func plot(_ p: Plot) -> MimeBundle { p.bundle(svg: session.drawsSVG, width: session.width) }

    /// `show weights M.LAYER`: the kernel as a heatmap (conv kernels as
    /// rows of kh·kw·C, one column per filter).
    func showWeights(_ a: Arguments) throws(LoomError) -> MimeBundle {
        let (block, kernel) = try weights(try a.expression("layer"))
        if let cells = recurrentCells(block) { return recurrentWeights(block.name, cells) }
        let columns = kernel.value.shape.last!
        let rows = kernel.value.count / columns
        let heatmap = plot(Heatmap(Matrix(rows: rows, columns: columns, values: kernel.value.storage.map(Double.init)),
                                   title: "\(block.name) weights, \(Shape.text(kernel.value.shape))"))
        // A pruned or sparse weight: its mask beside it.
        guard let mask = kernel.mask else { return heatmap }
        show(heatmap)
        return plot(SpyPlot(Matrix(rows: rows, columns: columns, values: mask.map(Double.init)),
                            title: "\(block.name)'s mask: the weights that train"))
    }

    /// `show filters M.LAYER`: each filter of a convolution as a small image,
    /// on one shared scale (averaged over input channels when there are several).
    func showFilters(_ a: Arguments) throws(LoomError) -> MimeBundle {
        let (block, kernel) = try weights(try a.expression("layer"))
        guard let conv = block.main as? Conv2D else {
            throw LoomError(.value, "`\(block.name)` is a \(block.main.kind) layer; filters belong to conv2d layers",
                            at: a.range(of: "layer"))
        }
        let (kh, kw) = (conv.kernel.height, conv.kernel.width)
        let channels = conv.inputShape[2], filters = conv.outputShape[2]
        let images = (0..<filters).map { f in
            Matrix(rows: kh, columns: kw, values: (0..<(kh * kw)).map { p in
                var sum = 0.0
                for ch in 0..<channels { sum += Double(kernel.value[(p * channels + ch) * filters + f]) }
                return sum / Double(channels)
            })
        }
        let note = channels > 1 ? ", each the mean over \(channels) input channels" : ""
        return plot(ImageGrid(images, labels: (1...filters).map { "f\($0)" },
                              title: "\(block.name): \(filters) filters of \(kh)x\(kw)\(note)"))
    }

    /// `show histogram M.LAYER`
    func showHistogram(_ a: Arguments) throws(LoomError) -> MimeBundle {
        let (block, kernel) = try weights(try a.expression("layer"))
        return plot(Histogram(kernel.value.storage.map(Double.init), bins: 12, title: "\(block.name) weights"))
    }

    /// `show sparsity M [on DATA]`: per layer, the share of zero weights and
    /// the weights that remain; on DATA (the first 512 samples) the share of
    /// zero activations, the mean active units, dead and always-on units;
    /// then both sparsities per layer as bars.
    func showSparsity(_ a: Arguments) throws(LoomError) -> SessionResult {
        let model = try a.model("model").model
        var inputs: Tensor?
        if let expr = a.command.argument("on") {
            let data = try dataset(expr)
            try check(inputs: data, fit: model, at: expr.range)
            inputs = data.inputs.gathering(samples: Array(0..<min(data.count, 512)))
        }
        let blocks = model.sparsity(on: inputs)
        var bundles = [sparsityTable(blocks, title: "sparsity of \(model.name)").bundle(width: session.width)]
        var bars: [(label: String, value: Double)] = []
        for b in blocks {
            if let w = b.weightSparsity { bars.append(("\(b.name) weights", w * 100)) }
            if let z = b.zeroActivations { bars.append(("\(b.name) activations", z * 100)) }
        }
        if inputs != nil {
            bundles.append(plot(BarChart(bars, title: "zeros per layer, %") { NumberFormat.short($0, significant: 3) + "%" }))
        }
        // Totals: the share of all weights that are zero, and of all measured activations.
        let weights = blocks.reduce(0) { $0 + $1.weights }, zeros = blocks.reduce(0) { $0 + $1.zeroWeights }
        let measured = blocks.filter { $0.zeroActivations != nil }
        let outputs = measured.reduce(0.0) { $0 + Double($1.units) }
        let activations = outputs > 0 ? measured.reduce(0.0) { $0 + $1.zeroActivations! * Double($1.units) } / outputs : nil
        return result("sparsity of \(model.name)", [("weights", .percent(Double(zeros) / Double(max(1, weights)))),
                                                    ("activations", activations.map { .percent($0) }),
                                                    ("nonzero", .number(Double(weights - zeros)))], showing: bundles)
    }

    /// The sparsity report's table: a row per block, totals in the footer,
    /// activation columns when they were measured.
    func sparsityTable(_ blocks: [BlockSparsity], title: String) -> Table {
        let measured = blocks.contains { $0.zeroActivations != nil }
        var columns: [Table.Column] = [.init("layer"), .init("weights", .right), .init("zero w.", .right),
                                       .init("nonzero", .right)]
        if measured { columns += [.init("zero act.", .right), .init("active", .right), .init("dead", .right),
                                  .init("on", .right)] }
        var table = Table(title: title, columns: columns,
                          note: "weights: stored weights and biases; zero w.: the share exactly zero; nonzero: what is left"
                            + (measured ? ". On the data: zero act.: the share of outputs that are zero; active: mean "
                               + "nonzero outputs per sample, of all; dead: outputs zero for every sample; on: nonzero "
                               + "for every sample." : "."))
        for b in blocks {
            var row = [b.name, NumberFormat.grouped(b.weights), b.weightSparsity.map { NumberFormat.percent($0) } ?? "",
                       NumberFormat.grouped(b.nonzeroWeights)]
            if measured {
                row += [b.zeroActivations.map { NumberFormat.percent($0) } ?? "",
                        b.meanActive.map { NumberFormat.short($0, significant: 3) + "/" + String(b.units) } ?? "",
                        b.deadUnits.map(NumberFormat.grouped) ?? "", b.alwaysOnUnits.map(NumberFormat.grouped) ?? ""]
            }
            table.append(row)
        }
        let total = BlockSparsity(name: "total", weights: blocks.reduce(0) { $0 + $1.weights },
                                  zeroWeights: blocks.reduce(0) { $0 + $1.zeroWeights })
        table.footer = ["total", NumberFormat.grouped(total.weights), total.weightSparsity.map { NumberFormat.percent($0) } ?? "",
                        NumberFormat.grouped(total.nonzeroWeights)] + (measured ? ["", "", "", ""] : [])
        return table
    }

    // MARK: recurrent layers

    /// The cells of a recurrent block (two for a bidirectional one).
    func recurrentCells(_ block: Block) -> [(label: String, cell: any RecurrentCell)]? {
        if let cell = block.main as? any RecurrentCell { return [("", cell)] }
        if let both = block.main as? Bidirectional { return [("forward ", both.forward), ("backward ", both.backward)] }
        return nil
    }

    /// One heatmap per gate: its input kernel's rows above its recurrent
    /// kernel's, a column per unit.
    func recurrentWeights(_ name: String, _ cells: [(label: String, cell: any RecurrentCell)]) -> MimeBundle {
        var plots: [MimeBundle] = []
        for (label, cell) in cells {
            let (f, h) = (cell.features, cell.units)
            for (g, gate) in cell.gateNames.enumerated() {
                let values = cell.gateColumns(of: cell.kernel, gate: g) + cell.gateColumns(of: cell.recurrentKernel, gate: g)
                plots.append(plot(Heatmap(Matrix(rows: f + h, columns: h, values: values.map(Double.init)),
                                          title: "\(name) \(label)\(gate) gate: rows 1–\(f) input kernel, "
                                              + "\(f + 1)–\(f + h) recurrent kernel; a column per unit")))
            }
        }
        plots.dropLast().forEach(show)
        return plots.last!
    }

    /// `show activations M.LAYER on DATA [first N]`.
    func showActivations(_ a: Arguments) throws(LoomError) -> MimeBundle {
        let (state, block) = try layer(try a.expression("layer"))
        let data = try a.dataset("on")
        try check(inputs: data, fit: state.model, at: try a.expression("on").range)
        let n = try a.integer("first", in: 1...100)
        let index = state.model.blocks.firstIndex { $0.name == block.name }!
        let measured = data.inputs.gathering(samples: Array(0..<min(data.count, 256)))
        let input = state.model.input(toBlock: index, for: measured)
        if let cells = recurrentCells(block) { return recurrentActivations(block.name, cells[0].cell, input, first: n) }
        var output = input
        for layer in block.layers { output = layer.forward(output, training: false) }
        let width = output.sampleSize, shown = min(n, output.batch)
        show(plot(Heatmap(Matrix(rows: shown, columns: width, values: output.storage.prefix(shown * width).map(Double.init)),
                          title: "\(block.name) on the first \(shown) samples: a row per sample, a column per unit")))
        let zeros = Double(output.zeroCount) / Double(max(1, output.count))
        let spy = plot(SpyPlot(Matrix(rows: output.batch, columns: width, values: output.storage.map(Double.init)),
                               title: "\(block.name)'s nonzero activations on \(output.batch) samples: "
                                   + "\(NumberFormat.percent(zeros)) zeros"))
        guard let winners = block.main as? KWinners else { return spy }
        show(spy)
        return plot(dutyCycles(winners))
    }

    /// A k-winners layer's health (Numenta): how often each unit has won
    /// during training, and the duty cycles' entropy against its maximum
    /// (every unit winning its k ÷ n share).
    func dutyCycles(_ layer: KWinners) -> Histogram {
        func bits(_ p: Double) -> Double { p <= 0 || p >= 1 ? 0 : -(p * log2(p) + (1 - p) * log2(1 - p)) }
        let duty = layer.dutyCycles.map(Double.init)
        let entropy = duty.reduce(0) { $0 + bits($1) }
        let most = Double(duty.count) * bits(Double(layer.k) / Double(layer.group))
        let share = most > 0 ? " (" + NumberFormat.percent(entropy / most) + ")" : ""
        return Histogram(duty, bins: 10, title: "\(layer.name) duty cycles over training: entropy "
                         + NumberFormat.short(entropy, significant: 3) + " of at most " + NumberFormat.short(most, significant: 3)
                         + " bits" + share)
    }

    /// The hidden state over the steps for the first samples (a row per
    /// unit, a column per step), and each gate's mean over units and samples
    /// at every step (how open an LSTM's forget gate is over time).
    func recurrentActivations(_ name: String, _ cell: any RecurrentCell, _ x: Tensor, first n: Int) -> MimeBundle {
        let (states, gates) = cell.trace(x)
        let (steps, units) = (cell.steps, cell.units)
        for s in 0..<min(n, x.batch) {
            var values = [Double](repeating: 0, count: units * steps)
            for t in 0..<steps { for j in 0..<units { values[j * steps + t] = Double(states[(s * steps + t) * units + j]) } }
            show(plot(Heatmap(Matrix(rows: units, columns: steps, values: values),
                              title: "\(name), sample \(s): hidden state, a row per unit, a column per step")))
        }
        let series = cell.gateNames.enumerated().map { g, gate in
            (name: "\(gate) gate", values: (0..<steps).map { t -> Double in
                var sum = 0.0
                for s in 0..<x.batch { for j in 0..<units { sum += Double(gates[(s * steps + t) * cell.width + g * units + j]) } }
                return sum / Double(x.batch * units)
            })
        }
        return plot(LinePlot(series, title: "\(name): mean of each gate over \(x.batch) samples, by step", xLabel: "step",
                             height: 10))
    }
}
