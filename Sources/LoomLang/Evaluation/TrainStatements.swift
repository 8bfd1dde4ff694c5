import LoomCore
import LoomEngine
import LoomRender
#if canImport(Glibc)
import Glibc
#endif

extension Evaluator {
    /// Checks that `data` fits `model`'s input and output.
    func check(_ data: Dataset, fits model: Sequential, at range: SourceRange) throws(LoomError) {
        guard data.sampleShape == model.inputShape else {
            throw LoomError(.value, "the data's samples are \(Shape.text(data.sampleShape)) but `\(model.name)` takes "
                            + "\(Shape.text(model.inputShape))", at: range)
        }
        let outputs = model.outputShape.reduce(1, *)
        guard model.outputShape.count == 1, outputs >= data.classes else {
            throw LoomError(.value, "`\(model.name)` gives \(Shape.text(model.outputShape)) outputs but the data has "
                            + "\(data.classes) classes; end the model with `dense \(data.classes) softmax`", at: range)
        }
    }

    /// `train M on DATA …`: the fit loop with a live progress line; ends with
    /// the per-epoch table and the loss curve.
    func train(_ a: Arguments) throws(LoomError) {
        let state = try a.model("model")
        let model = state.model
        let data = try a.dataset("on")
        try check(data, fits: model, at: try a.expression("on").range)
        let validation = a.given("validate") ? try a.dataset("validate") : nil
        if let validation { try check(validation, fits: model, at: try a.expression("validate").range) }
        let epochs = try a.integer("epochs", in: 1...100_000)
        let batch = try a.integer("batch", in: 1...1_000_000)
        let kind = try a.choice("optimizer", OptimizerKind.self)
        let loss = try a.choice("loss", Loss.self)
        if loss == .crossentropy && !model.endsInSoftmax {
            throw LoomError(.value, "crossentropy needs probabilities: end `\(model.name)` with a softmax layer, or use `loss mse`",
                            at: a.range)
        }
        let lr = try a.optionalNumber("lr").map(Float.init)
        if let lr, !(lr > 0) { throw LoomError(.value, "lr must be positive", at: a.range(of: "lr")) }
        try checkMemory(bytes: Trainer.batchBytes(model, batchSize: batch), what: "a batch of \(batch)", at: a.range)
        if state.optimizer?.kind != kind || (lr != nil && state.optimizer?.learningRate != lr) {
            state.optimizer = Optimizer(kind, learningRate: lr)
        }
        Parallel.setThreads(session.threads)

        let progress = ProgressDisplay(output: output, displayID: session.newDisplayID(), width: session.width)
        let started = Monotonic.now
        let first = state.epochsTrained
        var bar = ProgressBar(label: "epoch 1/\(epochs)", total: (data.count + batch - 1) / batch, unit: "batch")
        progress.show(bar, force: true)
        let outcome = Trainer.fit(model, inputs: data.inputs, labels: data.labels,
                                  options: FitOptions(epochs: epochs, batchSize: batch, loss: loss),
                                  optimizer: state.optimizer!, validation: validation.map { ($0.inputs, $0.labels) },
                                  random: &session.random, clock: { Monotonic.now },
                                  shouldStop: { interruptFlag.load(ordering: .relaxed) }) { p in
            bar.label = "epoch \(p.epoch)/\(p.epochs)"
            bar.completed = p.batch
            bar.elapsed = Monotonic.now - started
            bar.metrics = [("loss", NumberFormat.fixed(p.loss, decimals: 4)), ("acc", NumberFormat.percent(p.accuracy))]
            progress.show(bar, force: p.batch == p.batches)
        }
        state.epochsTrained += outcome.history.count
        state.history += outcome.history
        if !outcome.history.isEmpty || !outcome.interrupted {
            output.display(historyTable(outcome.history, firstEpoch: first), displayID: nil, update: false)
            let curves = [(name: "loss", values: state.history.map(\.loss))]
                + (state.history.allSatisfy { $0.validationLoss != nil }
                   ? [(name: "validation loss", values: state.history.map { $0.validationLoss! })] : [])
            output.display(LinePlot(curves, title: "loss by epoch", xLabel: "epoch", height: 10)
                .bundle(svg: session.plotStyle == .svg, width: session.width), displayID: nil, update: false)
        }
        if outcome.interrupted {
            throw LoomError(.interrupted, "training stopped by the user after \(outcome.history.count) full epoch(s); "
                            + "`\(model.name)` keeps the weights of its last finished step", at: a.range)
        }
    }

    func historyTable(_ history: [EpochRecord], firstEpoch: Int) -> MimeBundle {
        let validated = history.contains { $0.validationLoss != nil }
        var columns: [Table.Column] = [.init("epoch", .right), .init("loss", .right), .init("accuracy", .right)]
        if validated { columns += [.init("val loss", .right), .init("val accuracy", .right)] }
        columns.append(.init("time", .right))
        var table = Table(title: "training", columns: columns)
        for r in history {
            var row = [String(firstEpoch + r.epoch), NumberFormat.fixed(r.loss, decimals: 4), NumberFormat.percent(r.accuracy)]
            if validated {
                row += [r.validationLoss.map { NumberFormat.fixed($0, decimals: 4) } ?? "",
                        r.validationAccuracy.map { NumberFormat.percent($0) } ?? ""]
            }
            row.append(NumberFormat.fixed(r.seconds, decimals: 1) + " s")
            table.append(row)
        }
        return table.bundle(width: session.width)
    }

    /// `evaluate M on DATA`: loss, accuracy and the confusion matrix.
    func evaluate(_ a: Arguments) throws(LoomError) -> MimeBundle {
        let state = try a.model("model")
        let data = try a.dataset("on")
        try check(data, fits: state.model, at: try a.expression("on").range)
        let loss: Loss = state.model.endsInSoftmax ? .crossentropy : .mse
        let e = Metrics.evaluate(state.model, inputs: data.inputs, labels: data.labels, loss: loss)
        var summary = Table(title: "\(state.model.name) on \(try a.name("on"))",
                            columns: [.init("metric"), .init("value", .right)])
        summary.append(["loss (\(loss.rawValue))", NumberFormat.fixed(e.loss, decimals: 4)])
        summary.append(["accuracy", NumberFormat.percent(e.accuracy, decimals: 2)])
        summary.append(["samples", NumberFormat.grouped(data.count)])
        output.display(summary.bundle(width: session.width), displayID: nil, update: false)
        let k = min(e.confusion.count, data.classes)
        var confusion = Table(title: "confusion matrix (rows: true class, columns: predicted)",
                              columns: [.init("true", .right)] + (0..<k).map { .init(String($0), .right) })
        for t in 0..<k { confusion.append([String(t)] + (0..<k).map { e.confusion[t][$0] == 0 ? "·" : String(e.confusion[t][$0]) }) }
        return confusion.bundle(width: session.width)
    }

    /// `predict M on DATA [first N] [mistakes]`: predictions beside labels;
    /// with `mistakes`, only the misclassified samples, with their images.
    func predict(_ a: Arguments) throws(LoomError) -> MimeBundle {
        let state = try a.model("model")
        let data = try a.dataset("on")
        try check(data, fits: state.model, at: try a.expression("on").range)
        let n = try a.integer("first", in: 1...10_000)
        let onlyMistakes = a.flag("mistakes")
        let candidates = onlyMistakes ? Array(0..<data.count) : Array(0..<min(n, data.count))
        let output = state.model.predict(data.inputs.gathering(samples: candidates))
        let predicted = Metrics.predictedClasses(output)
        let k = output.sampleSize
        var rows: [(sample: Int, row: Int)] = []
        for (row, sample) in candidates.enumerated() where !onlyMistakes || predicted[row] != data.labels[sample] {
            rows.append((sample, row))
            if rows.count == n { break }
        }
        var table = Table(title: onlyMistakes ? "misclassified samples (\(rows.count) shown)" : nil,
                          columns: [.init("sample", .right), .init("label", .right), .init("predicted", .right),
                                    .init("confidence", .right), .init("")])
        for (sample, row) in rows {
            table.append([String(sample), String(data.labels[sample]), String(predicted[row]),
                          NumberFormat.percent(Double(output[row * k + predicted[row]])),
                          predicted[row] == data.labels[sample] ? "✓" : "✗"])
        }
        if onlyMistakes && rows.isEmpty { return MimeBundle(text: "No misclassified samples: every prediction is right.") }
        if onlyMistakes, data.sampleShape.count == 3, data.sampleShape[2] == 1 {
            show(table.bundle(width: session.width))
            let (h, w) = (data.sampleShape[0], data.sampleShape[1])
            let images = rows.map { r in
                Matrix(rows: h, columns: w, values: data.inputs.storage[(r.sample * h * w)..<((r.sample + 1) * h * w)].map(Double.init))
            }
            return plot(ImageGrid(images, labels: rows.map { "\(data.labels[$0.sample])→\(predicted[$0.row])" },
                                  title: "label→predicted", maxSide: 14))
        }
        return table.bundle(width: session.width)
    }
}
