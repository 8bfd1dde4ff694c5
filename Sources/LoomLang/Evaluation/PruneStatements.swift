import LoomCore
import LoomEngine
import LoomRender
#if canImport(Glibc)
import Glibc
#endif

extension Evaluator {
    /// `prune M P% [layer L] [global]` or `prune M N:M [layer L]`: masks the
    /// smallest weights (see `SparseWeights.prune`); shows the model's sparsity afterwards.
    func prune(_ a: Request<PruneRequest>) throws(LoomError) {
        let state = try modelState(a.model.expr)
        let fraction: Double
        switch a.amount {
        case .share(let share): fraction = share
        case .pattern(let kept, let block):
            if let structure = a.structure {
                throw LoomError(.value, "an N:M pattern keeps weights within units, so it takes no `\(structure.rawValue)`",
                                at: a.range(of: \.structure))
            }
            if a.global {
                throw LoomError(.value, "an N:M pattern holds within each unit's inputs, so it takes no `global`",
                                at: a.range(of: \.global))
            }
            let weights = try prunableWeights(a, in: state)
            return pruned(state, title: "pruned to \(kept):\(block) (each unit keeps \(kept) of every \(block) consecutive inputs)") {
                SparseWeights.prune(weights, keeping: kept, of: block)
            }
        }
        guard fraction >= 0, fraction < 1 else {
            throw LoomError(.value, "prune takes a share from 0% to below 100%, not \(NumberFormat.percent(fraction))",
                            at: a.range(of: \.amount))
        }
        if let structure = a.structure { return try pruneWhole(structure, fraction: fraction, a, in: state) }
        let weights = try prunableWeights(a, in: state)
        let how = a.global ? "globally" : "per layer"
        pruned(state, title: "pruned to \(NumberFormat.percent(fraction)) of its weights \(how)") {
            SparseWeights.prune(weights, fraction: fraction, global: a.global)
        }
    }

    /// The weights `prune` acts on: the named layer's, else the whole model's; refused when there are none.
    private func prunableWeights(_ a: Request<PruneRequest>, in state: ModelState) throws(LoomError) -> [LoomEngine.Parameter] {
        try prunableWeights(in: state, layer: a.layer, verb: "prune", at: a.range)
    }

    /// The kernels `prune` and `cluster` act on: the named layer's, else the whole model's; refused when there are none.
    func prunableWeights(in state: ModelState, layer: Name?, verb: String, at range: SourceRange) throws(LoomError) -> [LoomEngine.Parameter] {
        var blocks = state.model.blocks
        if let layer {
            let name = layer.text
            guard let block = state.model.block(named: name) else {
                throw LoomError(.name, "`\(state.model.name)` has no layer `\(name)`", at: layer.range,
                                suggestion: closest(to: name, in: state.model.blocks.map(\.name)))
            }
            blocks = [block]
        }
        let weights = SparseWeights.prunable(blocks.flatMap(\.layers))
        guard !weights.isEmpty else { throw LoomError(.value, "nothing to \(verb): no layer here has weights", at: range) }
        return weights
    }

    /// One pruning round: `prune` masks the weights; the round is recorded and the model's sparsity shown.
    func pruned(_ state: ModelState, title: String, _ prune: () -> Void) {
        if state.pruning.isEmpty { state.pruning.append(state.round) }
        prune()
        state.pruning.append(state.round)
        show(sparsityTable(state.model.sparsity(), title: "\(state.model.name) \(title)").bundle(width: session.width))
    }

    /// `rewind M`: every surviving weight back to its value when the model
    /// was defined; masked weights stay zero, the optimizer starts afresh.
    /// A loaded model (or a copy of one) has no known initial values: refused.
    func rewind(_ a: Request<RewindRequest>) throws(LoomError) {
        let state = try modelState(a.model.expr)
        if let epoch = a.to { return try rewind(state, toEpoch: epoch, at: a.range(of: \.to)) }
        guard let initialWeights = state.initialWeights else {
            let name = state.model.name
            throw LoomError(.value, "`\(name)` has no initial weights to rewind to: it was loaded from a file (or copied from a "
                            + "loaded model), which holds trained weights, not the ones training started from; rewind a model "
                            + "defined in this session, or `model \(name)2 = copy \(name) fresh` for new initial weights under its masks",
                            at: a.range)
        }
        let clustered = state.model.parameters.contains { $0.clusters != nil }
        for (p, initial) in zip(state.model.parameters, initialWeights) {
            try? p.setClusters(nil)
            p.value = Tensor(shape: p.value.shape, storage: initial)
            p.applyMask()
        }
        state.optimizer = nil
        let kept = state.model.trainableParameters
        show(MimeBundle(text: "Rewound \(state.model.name): \(NumberFormat.grouped(kept)) surviving weights and biases "
                        + "back to their initial values" + (clustered ? ", their clusters lifted" : "")))
    }

    /// `show pruning M`: the rounds' sparsity and evaluations, and accuracy
    /// (or loss) against the rounds.
    func showPruning(_ a: Request<ModelRequest>) throws(LoomError) -> MimeBundle {
        let state = try modelState(a.model.expr)
        guard state.pruning.count > 1 else {
            let name = state.model.name, zeros = state.weightSparsity
            // Masks with no rounds recorded: `sparse` layers, or a file saved without its rounds.
            guard zeros > 0, state.model.parameters.contains(where: { $0.mask != nil }) else {
                return MimeBundle(text: "`\(name)` has not been pruned yet: `prune \(name) 50%` starts a schedule")
            }
            return MimeBundle(text: "`\(name)` has no pruning rounds recorded; its masks leave \(NumberFormat.percent(zeros)) "
                              + "of its weights and biases zero. `prune \(name) 50%` starts a schedule")
        }
        var table = Table(title: "pruning rounds of \(state.model.name)",
                          columns: [.init("round", .right), .init("zero weights", .right), .init("accuracy", .right),
                                    .init("loss", .right), .init("evaluated on")],
                          note: "Round 0 is the model before pruning; each round's figures are its last `evaluate`.")
        for (i, r) in state.pruning.enumerated() {
            table.append([String(i), NumberFormat.percent(r.sparsity), r.accuracy.map { NumberFormat.percent($0) } ?? "",
                          r.loss.map { NumberFormat.fixed($0, decimals: 4) } ?? "", r.data ?? ""])
        }
        // The rounds evaluated, numbered as the table numbers them (round 0 the model before pruning).
        let rounds = state.pruning.indices.filter { state.pruning[$0].data != nil }
        let evaluated = rounds.map { state.pruning[$0] }
        guard evaluated.count > 1 else { return table.bundle(width: session.width) }
        show(table.bundle(width: session.width))
        let accuracy = evaluated.allSatisfy { $0.accuracy != nil }
        let total = state.model.sparsity().total.weights
        // A round loaded from a file saved before counts were kept holds its sparsity alone: its count follows from it.
        let nonzero = evaluated.map { $0.nonzeroParameters ?? Int(((1 - $0.sparsity) * Double(total)).rounded()) }
        // On a log scale, as pruning papers draw it: each halving of the weights is one step along x.
        return plot(LinePlot([(name: accuracy ? "accuracy" : "loss", values: evaluated.map { (accuracy ? $0.accuracy : $0.loss) ?? 0 })],
                             title: "\(accuracy ? "accuracy" : "loss") against nonzero weights and biases (rounds evaluated)",
                             xLabel: "nonzero parameters (log scale)", height: 8,
                             xEnds: ("\(NumberFormat.grouped(nonzero.first!)) (round \(rounds.first!))",
                                     "(round \(rounds.last!)) \(NumberFormat.grouped(nonzero.last!))"),
                             xValues: nonzero.map { log2(Double(max(1, $0))) }, yFormat: accuracy ? LinePlot.percent : Scale.label))
    }
}

extension ModelState {
    /// The share of the model's weights and biases that are exactly zero.
    var weightSparsity: Double { model.weightSparsity }

    /// The model as a round records it: its sparsity and nonzero weights and biases.
    var round: PruningRound {
        let counts = model.sparsity().total
        return PruningRound(sparsity: counts.weightSparsity ?? 0, nonzeroParameters: counts.nonzeroWeights)
    }

    /// An evaluation in the current pruning round (the unpruned round is made on the first).
    func record(_ evaluation: PruningRound) {
        var evaluation = evaluation
        evaluation.nonzeroParameters = model.nonzeroParameters
        if pruning.isEmpty { pruning.append(evaluation) } else { pruning[pruning.count - 1] = evaluation }
    }
}
