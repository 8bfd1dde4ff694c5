import LoomCore
import LoomEngine
import LoomRender

extension Evaluator {
    /// `compare M1 M2 … on DATA`: the models side by side — what they store,
    /// what is left after pruning, what sharing saves, what a sample costs,
    /// how well they do on DATA, how sparse their activations are there, and
    /// how long they take — then accuracy (or MSE) against stored parameters.
    /// With `noise P%`, every model sees the same corrupted copy.
    /// Dictionaries, autoencoders and LISTA models are compared as sparse coders (`compareCoders`).
    func compare(_ a: Request<CompareRequest>) throws(LoomError) -> SessionResult {
        let exprs = a.models.map(\.expr)
        guard !exprs.isEmpty else {
            throw LoomError(.syntax, "`compare` needs models: compare M1 M2 on DATA", at: a.range)
        }
        if namesCoders(a.models) { return try compareCoders(a) }
        if let stated = givenCoderOption(a, \.coder) {
            throw LoomError(.value, "`\(a.optionName(of: stated))` says how dictionaries code, and no dictionary is compared",
                            at: a.range(of: stated))
        }
        let given = try dataset(a.on.expr)
        var states: [(name: String, state: ModelState)] = []
        for expr in exprs { states.append((expr.name!.joined(separator: "."), try modelState(expr))) }
        // Reconstructions when asked, or when a model was trained to make them.
        let reconstructs = a.target != nil || states.contains { $0.state.reconstructionLoss != nil }
        let clean = targets(given, reconstructs)
        for (expr, (_, state)) in zip(exprs, states) { try check(clean, fits: state.model, at: expr.range) }
        let classes = clean.classes > 0
        let probed = min(clean.count, 512)
        var batches: [Int] = []
        for (expr, (_, state)) in zip(exprs, states) {
            batches.append(try inferenceBatch(state.model, samples: clean.count, keeping: a.noise > 0 ? 4 * clean.inputs.sampleSize : 0,
                                              at: expr.range))
        }
        let data = try withNoise(clean, a.noise, at: a.range(of: \.noise))
        let noise = noiseNote(a.noise, given: a.given(\.noise))
        // A column per model, a row per measure: it fits the page for a handful of models.
        let measures = ["stored", "stored bytes", "nonzero", "sharing", "mult-adds", classes ? "accuracy" : "mse", "loss", "zero act.",
                        "infer/sample", "train/epoch"]
        var cells: [[String]] = []
        var bars: [(label: String, value: Double)] = []
        var figures: [(String, Value?)] = []
        for ((name, state), batch) in zip(states, batches) {
            let model = state.model
            let loss: Loss = reconstructs ? reconstructionLoss(state) : model.endsInSoftmax ? .crossentropy : .mse
            // A first small batch builds what inference reuses (a pruned layer's sparse copy), untimed.
            _ = model.predict(data.inputs.gathering(samples: Array(0..<min(data.count, 8))))
            // The fastest of up to three passes: a busy machine slows some of them down.
            let (e, seconds) = Monotonic.fastest { Metrics.evaluate(model, on: data, loss: loss, batchSize: batch) }
            let perSample = seconds / Double(max(1, data.count))
            let sparsity = model.sparsity(on: data.inputs, samples: probed, batchSize: batch)
            let zeroActivations = sparsity.zeroActivations ?? 0, nonzero = sparsity.total.nonzeroWeights
            let total = model.sharingSummary.total
            let score = classes ? e.accuracy ?? 0 : e.meanSquaredError ?? e.loss
            let epochSeconds = state.history.meanEpochSeconds
            cells.append([NumberFormat.grouped(model.parameterCount), NumberFormat.grouped(state.storedBytes.stored),
                          NumberFormat.grouped(nonzero),
                          sharingText(total.sharing ?? 0), NumberFormat.grouped(total.multiplyAdds),
                          classes ? NumberFormat.percent(score, decimals: 2) : NumberFormat.fixed(score, decimals: 4),
                          NumberFormat.fixed(e.loss, decimals: 4), NumberFormat.percent(zeroActivations),
                          NumberFormat.fixed(perSample * 1000, decimals: 4) + " ms",
                          epochSeconds.map { NumberFormat.fixed($0, decimals: 2) + " s" } ?? "—"])
            bars.append(("\(name) (\(NumberFormat.grouped(nonzero)))", classes ? score * 100 : score))
            figures.append(("\(name)_" + (classes ? "accuracy" : "mse"), classes ? .percent(score) : .number(score)))
        }
        var table = Table(title: "\(states.count) models on \(a.on.text)\(noise)",
                          columns: [.init("")] + states.map { .init($0.name, .right) },
                          note: "stored: weights and biases kept; stored bytes: the file `save` writes (pruned and clustered "
                            + "weights compact); nonzero: not pruned or masked; sharing: what the layers "
                            + "would store without sharing ÷ what they store; mult-adds: per sample; zero act.: the share "
                            + "of zero outputs over all layers, layer outputs only (layers that pass their input on, as flatten "
                            + "and dropout, not counted; on up to 512 samples); infer/sample: a forward pass; "
                            + "train/epoch: the mean over the epochs trained.")
        for (row, measure) in measures.enumerated() { table.append([measure] + cells.map { $0[row] }) }
        let chart = plot(BarChart(bars, title: (classes ? "accuracy" : "mean squared error") + noise
                                  + (classes ? ", %" : "") + ", by model (nonzero parameters)") {
            classes ? NumberFormat.short($0, significant: 3) + "%" : NumberFormat.short($0, significant: 4)
        })
        if !noise.isEmpty { figures.append(("noise", .percent(a.noise))) }
        return result("comparison on \(a.on.text)\(noise)", figures, showing: [table.bundle(width: session.width), chart])
    }
}
