import LoomCore
import LoomEngine
import LoomRender

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

    /// `show weights M.LAYER`: the grids the layer names (see
    /// `ReportFacts.weightGrids`): its kernel as a heatmap (conv kernels as
    /// rows of kh·kw·C, one column per filter) and its mask beside it, or a
    /// recurrent cell's gates one by one; a dense layer on the image input,
    /// each unit's input weights as an image instead of the heatmap.
    /// A clustered kernel's shared values follow, as a line.
    func showWeights(_ a: Request<LayerRequest>) throws(LoomError) -> MimeBundle {
        let (block, kernel) = try weights(a.layer.expr)
        let units = unitImages(try layer(a.layer.expr).0, block)
        // A layer on another's parameters draws those, once more, and says whose they are.
        let whose: String
        switch block.borrowing {
        case .shares(let lender): whose = " (\(lender)'s, shared)"
        case .tied(let lender): whose = " (\(lender)'s kernel, used transposed)"
        case nil: whose = ""
        }
        var plots = block.main.weightGrids.map { grid in
            let matrix = Matrix(rows: grid.rows, columns: grid.columns, values: grid.values)
            switch grid.kind {
            case .values: return units.map(plot) ?? plot(Heatmap(matrix, title: grid.title + whose))
            case .pattern: return plot(SpyPlot(matrix, title: grid.title + whose))
            }
        }
        guard let last = plots.popLast() else {
            throw LoomError(.value, "`\(block.name)` (\(block.main.kind)) has no weights to draw", at: a.layer.range)
        }
        plots.forEach(show)
        guard let clusters = kernel.clusters else { return last }
        show(last)
        return MimeBundle(text: "\(block.name)'s \(clusters.centroids.count) shared values (\(clusters.bitsPerIndex) bits an index): "
                          + clusters.centroids.map { NumberFormat.short(Double($0), significant: 4) }.joined(separator: ", "))
    }

    /// `show filters M.LAYER`: each filter of a convolution as a small image,
    /// on one shared scale (averaged over input channels when there are several);
    /// a locally connected layer's at its first, centre and last positions, a plot each.
    func showFilters(_ a: Request<LayerRequest>) throws(LoomError) -> MimeBundle {
        let (block, _) = try weights(a.layer.expr)
        var plots = block.main.filterImages.map { filters in
            let images = filters.images.map { Matrix(rows: filters.height, columns: filters.width, values: $0) }
            let at = filters.position.map { " " + $0 } ?? ""
            let note = filters.channels > 1 ? ", each the mean over \(filters.channels) input channels" : ""
            return plot(ImageGrid(images, labels: (1...images.count).map { "f\($0)" },
                                  title: "\(block.name): \(images.count) filters of \(filters.height)x\(filters.width)\(at)\(note)"))
        }
        guard let last = plots.popLast() else {
            throw LoomError(.value, "`\(block.name)` is a \(block.main.kind) layer; filters belong to conv2d, depthwise, "
                            + "separable and local2d layers", at: a.layer.range)
        }
        plots.forEach(show)
        return last
    }

    /// `show histogram M.LAYER`; a clustered kernel's as a bar per shared
    /// value, with the weights it holds (pruned ones left out).
    func showHistogram(_ a: Request<LayerRequest>) throws(LoomError) -> MimeBundle {
        let (block, kernel) = try weights(a.layer.expr)
        guard let clusters = kernel.clusters else {
            return plot(Histogram(kernel.value.storage.map(Double.init), bins: 12, title: "\(block.name) weights"))
        }
        var members = [Int](repeating: 0, count: clusters.centroids.count)
        for (i, c) in clusters.assignment.enumerated() where kernel.mask?[i] != 0 { members[Int(c)] += 1 }
        let bars = zip(clusters.centroids, members).map { (label: NumberFormat.short(Double($0), significant: 4), value: Double($1)) }
        return plot(BarChart(bars, title: "\(block.name): weights per shared value (\(bars.count) values)") {
            NumberFormat.grouped(Int($0))
        })
    }

    /// `show sparsity M [on DATA]`: per layer, the share of zero weights and
    /// the weights that remain; on DATA (the first 512 samples, in batches
    /// that fit in memory) the share of zero activations, the mean active
    /// units, dead and always-on units; then both sparsities per layer as bars.
    func showSparsity(_ a: Request<SparsityRequest>) throws(LoomError) -> SessionResult {
        let model = try modelState(a.model.expr).model
        var inputs: Tensor?, samples = 0, batch = Sequential.inferenceBatch
        if let expr = a.on?.expr {
            let data = try dataset(expr)
            try check(inputs: data, fit: model, at: expr.range)
            samples = min(data.count, 512)
            batch = try inferenceBatch(model, samples: samples, at: expr.range)
            inputs = data.inputs
        }
        let sparsity = model.sparsity(on: inputs, samples: samples, batchSize: batch)
        var bundles = [sparsityTable(sparsity, title: "sparsity of \(model.name)").bundle(width: session.width)]
        var bars: [(label: String, value: Double)] = []
        for b in sparsity.blocks {
            if let w = b.weightSparsity { bars.append(("\(b.name) weights", w * 100)) }
            if let z = b.zeroActivations { bars.append(("\(b.name) activations", z * 100)) }
        }
        if inputs != nil {
            bundles.append(plot(BarChart(bars, title: "zeros per layer, %") { NumberFormat.short($0, significant: 3) + "%" }))
        }
        return result("sparsity of \(model.name)", [("weights", .percent(sparsity.total.weightSparsity ?? 0)),
                                                    ("activations", sparsity.zeroActivations.map { .percent($0) }),
                                                    ("nonzero", .number(Double(sparsity.total.nonzeroWeights)))], showing: bundles)
    }

    /// The sparsity report's table: a row per block, totals in the footer,
    /// activation columns when they were measured.
    func sparsityTable(_ sparsity: ModelSparsity, title: String) -> Table {
        let measured = sparsity.blocks.contains { $0.zeroActivations != nil }
        var columns: [Table.Column] = [.init("layer"), .init("weights", .right), .init("zero w.", .right),
                                       .init("nonzero", .right)]
        if measured { columns += [.init("zero act.", .right), .init("active", .right), .init("dead", .right),
                                  .init("on", .right)] }
        var table = Table(title: title, columns: columns,
                          note: "weights: stored weights and biases; zero w.: the share exactly zero; nonzero: what is left"
                            + (measured ? ". On the data, counting layer outputs only (flatten and reshape pass their "
                               + "input on, as dropout and activity do when predicting: not counted): zero act.: the share "
                               + "of outputs that are zero; active: mean "
                               + "nonzero outputs per sample, of all; dead: outputs zero for every sample; on: nonzero "
                               + "for every sample." : "."))
        for b in sparsity.blocks {
            var row = [b.name, NumberFormat.grouped(b.weights), b.weightSparsity.map { NumberFormat.percent($0) } ?? "",
                       NumberFormat.grouped(b.nonzeroWeights)]
            if measured {
                row += [b.zeroActivations.map { NumberFormat.percent($0) } ?? "",
                        b.meanActive.map { NumberFormat.short($0, significant: 3) + "/" + String(b.units) } ?? "",
                        b.deadUnits.map(NumberFormat.grouped) ?? "", b.alwaysOnUnits.map(NumberFormat.grouped) ?? ""]
            }
            table.append(row)
        }
        let total = sparsity.total
        table.footer = ["total", NumberFormat.grouped(total.weights), total.weightSparsity.map { NumberFormat.percent($0) } ?? "",
                        NumberFormat.grouped(total.nonzeroWeights)] + (measured ? ["", "", "", ""] : [])
        return table
    }

    /// `show activations M.LAYER on DATA [first N]`: a recurrent layer's
    /// steps (see `ReportFacts.trace`), or the block's outputs and which of
    /// them are zero, with a k-winners layer's duty cycles; on the first 256
    /// samples, in batches that fit in memory beside the outputs drawn.
    func showActivations(_ a: Request<ActivationsRequest>) throws(LoomError) -> MimeBundle {
        let (state, block) = try layer(a.layer.expr)
        let data = try dataset(a.on.expr)
        try check(inputs: data, fit: state.model, at: a.on.range)
        let n = a.first
        let index = state.model.blocks.firstIndex { $0.name == block.name }!
        let samples = min(data.count, 256), width = block.outputShape.reduce(1, *)
        // The outputs drawn are kept for every sample, as doubles; a
        // recurrent layer's trace copies a batch's states and gates, as its buffers hold them.
        let batch = try inferenceBatch(state.model, samples: samples, keeping: 8 * width,
                                       perBatchSample: 4 * block.main.trainingFloatsPerSample, at: a.on.range)
        var values: [Double] = [], first: Tensor?
        let measured = state.model.activations(ofBlock: index, on: data.inputs, samples: samples, batchSize: batch,
                                               keepingStatesOf: n) { output in
            if first == nil { first = output.gathering(samples: [0]); values.reserveCapacity(samples * width) }
            values.append(contentsOf: output.storage.lazy.map(Double.init))
        }
        let activity: UnitActivity
        switch measured {
        case .steps(let trace): return recurrentActivations(block.name, trace, first: n)
        case .outputs(let counted): activity = counted
        }
        let rows = activity.samples, shown = min(n, rows)
        let output = first ?? Tensor(shape: [0] + block.outputShape, storage: [])
        if let maps = featureMaps(block, output) { show(plot(maps)) } else { show(plot(Heatmap(Matrix(rows: shown, columns: width, values: Array(values.prefix(shown * width))),
                          title: "\(block.name) on the first \(shown) samples: a row per sample, a column per unit"))) }
        let spy = plot(SpyPlot(Matrix(rows: rows, columns: width, values: values),
                               title: "\(block.name)'s nonzero activations on \(rows) samples: "
                                   + "\(NumberFormat.percent(activity.zeroShare)) zeros; of \(width) units "
                                   + "\(activity.deadUnits) dead (zero for every sample), "
                                   + "\(activity.alwaysOnUnits) always on"))
        guard let duty = block.main.dutyCycleSummary else { return spy }
        show(spy)
        return plot(dutyCycles(block.name, duty))
    }

    /// A k-winners layer's health (Numenta): how often each unit has won
    /// during training, and the duty cycles' entropy against its maximum
    /// (every unit winning its k ÷ n share).
    func dutyCycles(_ name: String, _ duty: DutyCycleSummary) -> Histogram {
        let share = duty.share.map { " (" + NumberFormat.percent($0) + ")" } ?? ""
        return Histogram(duty.dutyCycles, bins: 10, title: "\(name) duty cycles over training: entropy "
                         + NumberFormat.short(duty.entropy, significant: 3) + " of at most "
                         + NumberFormat.short(duty.maximumEntropy, significant: 3) + " bits" + share)
    }

    /// The hidden state over the steps for the first samples (a row per
    /// unit, a column per step), and each gate's mean over units and samples
    /// at every step (how open an LSTM's forget gate is over time).
    func recurrentActivations(_ name: String, _ trace: RecurrentTrace, first n: Int) -> MimeBundle {
        for s in 0..<min(n, trace.states.batch) {
            show(plot(Heatmap(Matrix(rows: trace.units, columns: trace.steps, values: trace.stateGrid(sample: s)),
                              title: "\(name), sample \(s): hidden state, a row per unit, a column per step")))
        }
        let series = trace.gateMeans.map { (name: "\($0.gate) gate", values: $0.means) }
        return plot(LinePlot(series, title: "\(name): mean of each gate over \(trace.samples) samples, by step", xLabel: "step",
                             height: 10))
    }
}
