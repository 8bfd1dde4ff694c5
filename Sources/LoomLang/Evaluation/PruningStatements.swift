import LoomCore
import LoomEngine
import LoomRender

/// Pruning beyond one-shot magnitude cuts: whole units and filters and
/// `compact`, gradual pruning and kept epochs during `train`, late
/// rewinding, and `show mask`.
extension Evaluator {
    /// `prune M P% units|filters [layer L]`: whole units (dense) or filters
    /// (conv2d) of every layer but the output layer, or of the one named.
    func pruneWhole(_ structure: PruneStructure, fraction: Double, _ a: Request<PruneRequest>,
                    in state: ModelState) throws(LoomError) {
        if a.global {
            throw LoomError(.value, "structured pruning ranks the units of each layer by their own norms, so it takes no `global`",
                            at: a.range(of: \.global))
        }
        let kind = structure == .units ? "dense" : "conv2d"
        let model = state.model
        var blocks = model.blocks.dropLast().filter {
            $0.main.kind == kind && $0.sharedFrom == nil && SparseWeights.unitParameters($0.main) != nil
        }
        if let layer = a.layer {
            guard let block = model.block(named: layer.text) else {
                throw LoomError(.name, "`\(model.name)` has no layer `\(layer.text)`", at: layer.range,
                                suggestion: closest(to: layer.text, in: model.blocks.map(\.name)))
            }
            guard block.main.kind == kind else {
                throw LoomError(.value, "`\(block.name)` is a \(block.main.kind) layer; `\(structure.rawValue)` prunes \(kind) layers",
                                at: a.range(of: \.structure))
            }
            guard block.name != model.blocks.last?.name else {
                throw LoomError(.value, "the units of `\(block.name)` are the model's outputs; prune a layer before it", at: layer.range)
            }
            blocks = blocks.filter { $0.name == block.name }
        }
        guard !blocks.isEmpty else {
            throw LoomError(.value, "`\(model.name)` has no \(kind) layer before its output layer whose \(structure.rawValue) "
                            + "can be pruned", at: a.range(of: \.structure))
        }
        let names = blocks.map(\.name).joined(separator: ", ")
        pruned(state, title: "pruned to \(NumberFormat.percent(fraction)) of the \(structure.rawValue) of \(names)") {
            for block in blocks { SparseWeights.pruneUnits(of: block, in: model, fraction: fraction) }
        }
    }

    /// `compact M`: the model rebuilt without its units and filters pruned
    /// whole (see `Compaction`), under the same name, with its history,
    /// rounds, initial and kept weights cut down alike; the optimizer starts afresh.
    func compact(_ a: Request<ModelRequest>) throws(LoomError) {
        let state = try modelState(a.model.expr)
        let compaction: Compaction
        do { compaction = try Compaction(state.model) } catch { throw LoomError(.value, error.message, at: a.range) }
        let compacted = ModelState(model: compaction.model, initialWeights: state.initialWeights.map(compaction.gather))
        compacted.epochsTrained = state.epochsTrained
        compacted.history = state.history
        compacted.reconstructionLoss = state.reconstructionLoss
        compacted.trainedOnLasso = state.trainedOnLasso
        compacted.pruning = state.pruning
        compacted.keptEpochs = state.keptEpochs.map { ($0.epoch, compaction.gather($0.weights)) }
        session.define(a.model.text, .object(compacted))
        var table = Table(title: "\(a.model.text) compacted: \(NumberFormat.grouped(state.model.parameterCount)) → "
                          + "\(NumberFormat.grouped(compaction.model.parameterCount)) parameters",
                          columns: [.init("layer"), .init("units or filters", .right), .init("now", .right)],
                          note: "The next layer's inputs shrink with them; the outputs are the same, to float rounding.")
        for s in compaction.shrunk { table.append([s.block, NumberFormat.grouped(s.from), NumberFormat.grouped(s.to)]) }
        show(table.bundle(width: session.width))
    }

    /// The hooks `train … prune to P%` and `keep epoch(s) E…` ask for, checked
    /// against the run's epochs (the model's epochs so far are `first`).
    func pruningHooks(_ a: Request<TrainRequest>, _ state: ModelState, first: Int) throws(LoomError)
        -> (hooks: [any TrainingHook], snapshot: EpochSnapshot?) {
        var hooks: [any TrainingHook] = []
        if let p = a.prune {
            let (from, to) = (p.from ?? 1, p.to ?? a.epochs)
            guard to <= a.epochs, from <= to else {
                throw LoomError(.value, "pruning runs from epoch \(from) to \(to) of this `train`, which has \(a.epochs) epoch(s)",
                                at: a.range(of: \.prune))
            }
            guard a.patience == nil, !a.restore else {
                throw LoomError(.value, "gradual pruning needs every epoch up to \(to): it takes no `patience` or `restore`",
                                at: a.range(of: \.prune))
            }
            let weights = SparseWeights.prunable(state.model.layers)
            guard !weights.isEmpty else { throw LoomError(.value, "nothing to prune: no layer here has weights", at: a.range(of: \.prune)) }
            hooks.append(GradualPruning(weights: weights, target: p.target, firstEpoch: from, lastEpoch: to, every: p.every,
                                        global: p.global))
            // Round 0 is the model as training finds it.
            if state.pruning.isEmpty { state.pruning.append(state.round) }
        }
        guard let keep = a.keep else { return (hooks, nil) }
        if let outside = keep.firstIndex(where: { $0 <= first || $0 > first + a.epochs }) {
            throw LoomError(.value, "this `train` runs epochs \(first + 1) to \(first + a.epochs) of `\(state.model.name)`, "
                            + "so it cannot keep epoch \(keep[outside])", at: a.range(of: \.keep, item: outside))
        }
        let snapshot = EpochSnapshot(of: state.model, afterEpochs: Set(keep.map { $0 - first }))
        hooks.append(snapshot)
        return (hooks, snapshot)
    }

    /// After a `train` with hooks: the kept epochs stored (in place of any
    /// kept before), and the run recorded as a pruning round.
    func finishPruning(_ state: ModelState, _ a: Request<TrainRequest>, snapshot: EpochSnapshot?, first: Int) {
        if let snapshot, !snapshot.kept.isEmpty { state.keptEpochs = snapshot.kept.map { (first + $0.epoch, $0.weights) } }
        if a.prune != nil { state.pruning.append(state.round) }
    }

    /// `rewind M to epoch E`: late rewinding (Frankle et al. 2020) — the
    /// surviving weights back to their values after epoch E, which
    /// `train … keep epoch E` kept; masked weights stay zero.
    func rewind(_ state: ModelState, toEpoch epoch: Int, at range: SourceRange) throws(LoomError) {
        let name = state.model.name
        guard let kept = state.keptEpochs.first(where: { $0.epoch == epoch }) else {
            let epochs = state.keptEpochs.map { String($0.epoch) }
            let held = epochs.isEmpty ? "it holds none"
                : "it holds epoch\(epochs.count > 1 ? "s" : "") \(epochs.joined(separator: ", "))"
            throw LoomError(.value, "`\(name)` has no weights kept from epoch \(epoch) (\(held)): train it with "
                            + "`keep epoch \(epoch)` first", at: range)
        }
        for (p, weights) in zip(state.model.parameters, kept.weights) {
            p.value = Tensor(shape: p.value.shape, storage: weights)
            p.applyMask()
        }
        state.optimizer = nil
        show(MimeBundle(text: "Rewound \(name): \(NumberFormat.grouped(state.model.trainableParameters)) surviving weights and "
                        + "biases back to their values after epoch \(epoch)"))
    }

    /// `show mask M.LAYER`: the kernel's mask as a pattern (a dot per kept
    /// weight; rows are inputs, columns units or filters), with its sparsity.
    func showMask(_ a: Request<LayerRequest>) throws(LoomError) -> MimeBundle {
        let (block, kernel) = try weights(a.layer.expr)
        guard kernel.value.shape.count >= 2 else {
            throw LoomError(.value, "`\(block.name)` (\(block.main.kind)) has no kernel to mask", at: a.layer.range)
        }
        guard let mask = kernel.mask else {
            return MimeBundle(text: "`\(block.name)` has no mask: every weight trains (`prune` or `sparse` sets one)")
        }
        let units = kernel.value.shape.last!, rows = kernel.value.count / units
        let pruned = mask.reduce(0) { $0 + ($1 == 0 ? 1 : 0) }
        let title = "\(block.name)'s mask: \(NumberFormat.percent(Double(pruned) / Double(mask.count))) pruned, "
            + "\(NumberFormat.grouped(mask.count - pruned)) of \(NumberFormat.grouped(mask.count)) weights kept "
            + "(rows: inputs, columns: \(block.main.kind == "conv2d" ? "filters" : "units"))"
        return plot(SpyPlot(Matrix(rows: rows, columns: units, values: mask.map(Double.init)), title: title))
    }
}
