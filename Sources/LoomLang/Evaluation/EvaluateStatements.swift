import LoomCore
import LoomEngine
import LoomRender

extension Evaluator {
    /// `evaluate M on DATA [noise P%]`: the loss and accuracy with a
    /// confusion matrix for class labels, the loss with squared and absolute
    /// errors for values and reconstructions, the lasso objective of the
    /// codes of a model trained with `loss lasso`. An evaluation with noise
    /// is not the pruning round's (`show pruning` keeps clean ones).
    func evaluate(_ a: Request<MeasureRequest>) throws(LoomError) -> SessionResult {
        let state = try modelState(a.model.expr)
        let reconstructs = reconstructs(a.target, state)
        // Codes are scored against the samples they code, as training scored them.
        let lasso = state.trainedOnLasso && !reconstructs && state.model.lassoObjective != nil
        let clean = try targets(dataset(a.on.expr), reconstructs || lasso)
        if lasso { try check(inputs: clean, fit: state.model, at: a.on.range) } else { try check(clean, fits: state.model, at: a.on.range) }
        let loss: Loss = lasso ? .lasso : reconstructs ? reconstructionLoss(state) : state.model.endsInSoftmax ? .crossentropy : .mse
        let data = try withNoise(clean, a.noise, at: a.range(of: \.noise))
        let batch = try inferenceBatch(state.model, samples: data.count, keeping: a.noise > 0 ? 4 * data.inputs.sampleSize : 0,
                                       at: a.range)
        guard let e = Metrics.evaluate(state.model, on: data, loss: loss, batchSize: batch,
                                       shouldStop: Evaluator.interrupted) else {
            throw LoomError(.interrupted, "evaluation stopped by the user; nothing was measured", at: a.range)
        }
        if a.noise == 0 {
            state.record(PruningRound(sparsity: state.weightSparsity, data: a.on.text, accuracy: e.accuracy, loss: e.loss))
        }
        let noise = noiseNote(a.noise, given: a.given(\.noise))
        var summary = Table(title: "\(state.model.name) on \(a.on.text)\(noise)",
                            columns: [.init("metric"), .init("value", .right)])
        summary.append(["loss (\(loss.rawValue))", NumberFormat.fixed(e.loss, decimals: 4)])
        if let accuracy = e.accuracy { summary.append(["accuracy", NumberFormat.percent(accuracy, decimals: 2)]) }
        if let mse = e.meanSquaredError { summary.append(["mean squared error", NumberFormat.fixed(mse, decimals: 4)]) }
        if let mae = e.meanAbsoluteError { summary.append(["mean absolute error", NumberFormat.fixed(mae, decimals: 4)]) }
        summary.append(["samples", NumberFormat.grouped(data.count)])
        var bundles = [summary.bundle(width: session.width)]
        if let matrix = e.confusion {
            let k = min(matrix.count, data.classes)
            var confusion = Table(title: "confusion matrix (rows: true class, columns: predicted)",
                                  columns: [.init("true", .right)] + (0..<k).map { .init(data.className($0), .right) })
            for t in 0..<k {
                confusion.append([data.className(t)] + (0..<k).map { matrix[t][$0] == 0 ? "·" : String(matrix[t][$0]) })
            }
            bundles.append(confusion.bundle(width: session.width))
        }
        return result("evaluation of \(state.model.name) on \(a.on.text)\(noise)",
                      [("loss", .number(e.loss)), ("accuracy", e.accuracy.map { .percent($0) }),
                       ("mse", e.meanSquaredError.map { .number($0) }), ("mae", e.meanAbsoluteError.map { .number($0) }),
                       ("samples", .number(Double(data.count))), ("noise", noise.isEmpty ? nil : .percent(a.noise))],
                      showing: bundles)
    }

    /// `data` with `fraction` of each sample's values replaced (`noise P%`,
    /// see `InputNoise`), drawn from a generator the session's random state
    /// seeds, so a seeded notebook corrupts the same values each run; `data`
    /// itself, with no draw, when `fraction` is 0.
    func withNoise(_ data: Dataset, _ fraction: Double, at range: SourceRange) throws(LoomError) -> Dataset {
        guard fraction > 0 else { return data }
        try checkMemory(bytes: InputNoise.bytes(for: data.inputs),
                        what: "a copy of \(NumberFormat.grouped(data.count)) samples with noise", at: range)
        var random = RandomGenerator(seed: session.random.next())
        return data.corrupted(by: InputNoise(fraction: fraction), random: &random)
    }

    /// ` with 20% noise`, for titles, when the line gave `noise`; empty otherwise.
    func noiseNote(_ fraction: Double, given: Bool) -> String {
        given ? " with \(Value.percent(fraction).display) noise" : ""
    }

    /// `predict M on DATA [first N] [mistakes]`: predictions beside labels;
    /// with `mistakes`, only the misclassified samples, with their images.
    /// For real-valued targets, predicted beside true values; for an
    /// autoencoder, its reconstructions.
    func predict(_ a: Request<MeasureRequest>) throws(LoomError) -> MimeBundle {
        let state = try modelState(a.model.expr)
        let reconstructs = reconstructs(a.target, state)
        let data = try targets(dataset(a.on.expr), reconstructs)
        try check(data, fits: state.model, at: a.on.range)
        let n = a.first
        let onlyMistakes = a.mistakes
        // The first N samples are copied, with their outputs; `mistakes` runs
        // over them all a batch at a time and keeps the misclassified only.
        let shown = min(n, data.count)
        let batch = try inferenceBatch(state.model, samples: onlyMistakes ? data.count : shown,
                                       keeping: onlyMistakes ? 0 : 4 * (data.inputs.sampleSize + state.model.outputShape.reduce(1, *)),
                                       keepsEveryOutput: !onlyMistakes, at: a.range)
        if reconstructs {
            if onlyMistakes {
                throw LoomError(.value, "`mistakes` needs class labels; `\(state.model.name)` reconstructs its inputs",
                                at: a.range(of: \.mistakes))
            }
            return predictReconstructions(state.model, data, first: n, batchSize: batch)
        }
        if case .values(let targets) = data.targets {
            return predictValues(state.model, data.inputs, targets, first: n, batchSize: batch)
        }
        // Each shown sample, its predicted class and that class's probability.
        var rows: [(sample: Int, predicted: Int, confidence: Float)] = []
        let inputs = onlyMistakes ? data.inputs : data.inputs.gathering(samples: Array(0..<shown))
        _ = state.model.predictInRuns(inputs, batchSize: batch, shouldStop: { rows.count >= n }) { samples, _, output in
            let k = output.sampleSize
            for (row, predicted) in Metrics.predictedClasses(output).enumerated() where rows.count < n {
                let sample = samples.lowerBound + row
                if onlyMistakes && predicted == data.labels[sample] { continue }
                rows.append((sample, predicted, output[row * k + predicted]))
            }
        }
        var table = Table(title: onlyMistakes ? "misclassified samples (\(rows.count) shown)" : nil,
                          columns: [.init("sample", .right), .init("label", .right), .init("predicted", .right),
                                    .init("confidence", .right), .init("")])
        for (sample, predicted, confidence) in rows {
            table.append([String(sample), data.className(data.labels[sample]), data.className(predicted),
                          NumberFormat.percent(Double(confidence)), predicted == data.labels[sample] ? "✓" : "✗"])
        }
        if onlyMistakes && rows.isEmpty { return MimeBundle(text: "No misclassified samples: every prediction is right.") }
        if onlyMistakes, let grid = images(of: data, samples: rows.map(\.sample),
                                           labels: rows.map { "\(data.className(data.labels[$0.sample]))→\(data.className($0.predicted))" },
                                           title: "label→predicted") {
            show(table.bundle(width: session.width))
            return plot(grid)
        }
        return table.bundle(width: session.width)
    }

    /// The first `n` samples' predicted and true values (up to four of each),
    /// and for one-value targets both as curves over the samples.
    func predictValues(_ model: Sequential, _ inputs: Tensor, _ targets: Tensor, first n: Int, batchSize: Int) -> MimeBundle {
        let samples = Array(0..<min(n, inputs.batch))
        let output = model.predict(inputs.gathering(samples: samples), batchSize: batchSize)
        let width = targets.sampleSize
        func values(_ t: Tensor, _ s: Int, row: Int) -> String {
            (0..<min(width, 4)).map { NumberFormat.fixed(Double(t[row * width + $0]), decimals: 4) }.joined(separator: " ")
                + (width > 4 ? " …" : "")
        }
        var table = Table(columns: [.init("sample", .right), .init("true", .right), .init("predicted", .right),
                                    .init("abs error", .right)])
        for (row, s) in samples.enumerated() {
            var error = 0.0
            for j in 0..<width { error += Double(abs(output[row * width + j] - targets[s * width + j])) }
            table.append([String(s), values(targets, s, row: s), values(output, s, row: row),
                          NumberFormat.fixed(error / Double(width), decimals: 4)])
        }
        guard width == 1, samples.count > 1 else { return table.bundle(width: session.width) }
        show(table.bundle(width: session.width))
        return plot(LinePlot([(name: "true", values: samples.map { Double(targets[$0]) }),
                              (name: "predicted", values: samples.map { Double(output[$0]) })],
                             title: "predicted and true values", xLabel: "sample", height: 10))
    }

    /// Samples of a data set of single-channel images as an image grid; nil
    /// for other shapes.
    func images(of data: Dataset, samples: [Int], labels: [String], title: String) -> ImageGrid? {
        let shape = data.sampleShape
        guard shape.count == 3, shape[2] == 1, !samples.isEmpty else { return nil }
        let rows = data.inputs.gathering(samples: samples)
        return ImageGrid(rowsOf: Matrix(rows: samples.count, columns: rows.sampleSize, values: rows.storage.map(Double.init)),
                         shape: (shape[0], shape[1]), labels: labels, title: title, maxSide: 14)
    }
}
