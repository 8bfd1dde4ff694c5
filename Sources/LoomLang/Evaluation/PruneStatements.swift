import LoomCore
import LoomEngine
import LoomRender

extension Evaluator {
    /// `prune M P% [layer L] [global]`: masks the smallest weights (see
    /// `SparseWeights.prune`); shows the model's sparsity afterwards.
    func prune(_ a: Arguments) throws(LoomError) {
        let state = try a.model("model")
        let fraction = try a.number("amount")
        guard fraction >= 0, fraction < 1 else {
            throw LoomError(.value, "prune takes a share from 0% to below 100%, not \(NumberFormat.percent(fraction))",
                            at: a.range(of: "amount"))
        }
        var blocks = state.model.blocks
        if a.given("layer") {
            let name = try a.name("layer")
            guard let block = state.model.block(named: name) else {
                throw LoomError(.name, "`\(state.model.name)` has no layer `\(name)`", at: a.range(of: "layer"),
                                suggestion: closest(to: name, in: state.model.blocks.map(\.name)))
            }
            blocks = [block]
        }
        let weights = SparseWeights.prunable(blocks.flatMap(\.layers))
        guard !weights.isEmpty else { throw LoomError(.value, "nothing to prune: no layer here has weights", at: a.range) }
        SparseWeights.prune(weights, fraction: fraction, global: a.flag("global"))
        let how = a.flag("global") ? "globally" : "per layer"
        show(sparsityTable(state.model.sparsity(), title: "\(state.model.name) pruned to \(NumberFormat.percent(fraction)) "
                           + "of its weights \(how)").bundle(width: session.width))
    }

    /// `rewind M`: every surviving weight back to its value when the model
    /// was defined; masked weights stay zero, the optimizer starts afresh.
    func rewind(_ a: Arguments) throws(LoomError) {
        let state = try a.model("model")
        var kept = 0
        for (p, initial) in zip(state.model.parameters, state.initialWeights) {
            p.value = Tensor(shape: p.value.shape, storage: initial)
            p.applyMask()
            kept += p.value.count - (p.mask?.reduce(0) { $0 + ($1 == 0 ? 1 : 0) } ?? 0)
        }
        state.optimizer = nil
        show(MimeBundle(text: "Rewound \(state.model.name): \(NumberFormat.grouped(kept)) surviving weights and biases "
                        + "back to their initial values"))
    }
}
