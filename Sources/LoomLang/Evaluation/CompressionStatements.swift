import LoomCore
import LoomEngine
import LoomRender

extension Evaluator {
    /// `cluster M N [layer L]`: each kernel (or the named layer's) becomes N
    /// shared values (`WeightClusters.cluster`); later training fine-tunes
    /// them. The optimizer starts afresh, as after `rewind`.
    func cluster(_ a: Request<ClusterRequest>) throws(LoomError) {
        let state = try modelState(a.model.expr)
        let weights = try prunableWeights(in: state, layer: a.layer, verb: "cluster", at: a.range)
        let before = state.storedBytes.stored
        do { try WeightClusters.cluster(weights, count: a.count) } catch {
            throw LoomError(.value, "cannot cluster `\(state.model.name)`: \(error.message)", at: a.range)
        }
        state.optimizer = nil
        var table = clusterTable(state.model, title: "\(state.model.name) clustered to \(a.count) shared values per layer")
        let after = state.storedBytes.stored
        table.note = "kept: weights not pruned, each one of the layer's values; bits/index: what `save` stores per kept "
            + "weight beside its codebook. Stored as `save` writes it: \(NumberFormat.grouped(after)) bytes, "
            + "\(NumberFormat.grouped(before)) before."
        show(table.bundle(width: session.width))
    }

    /// A row per clustered weight: its size, the weights kept, its shared values and the bits an index takes.
    func clusterTable(_ model: Sequential, title: String) -> Table {
        var table = Table(title: title, columns: [.init("weight"), .init("weights", .right), .init("kept", .right),
                                                  .init("values", .right), .init("bits/index", .right)])
        for (name, p) in model.namedParameters {
            guard let clusters = p.clusters else { continue }
            table.append([name, NumberFormat.grouped(p.value.count), NumberFormat.grouped(p.value.count - (p.mask?.zeroCount ?? 0)),
                          String(clusters.centroids.count), String(clusters.bitsPerIndex)])
        }
        return table
    }

    /// `summary`'s line on storage: the file `save` writes, against the same weights stored whole.
    func storageLine(_ state: ModelState) -> String {
        let (stored, dense) = state.storedBytes
        let line = "Stored as `save` writes it: \(NumberFormat.grouped(stored)) bytes"
        guard stored != dense else { return line + "." }
        return line + ", \(sharingText(Double(dense) / Double(max(1, stored)))) fewer than with every weight whole "
            + "(\(NumberFormat.grouped(dense)))."
    }

    /// The cell `summary` shows for a block's clustered kernel: `32 × 5 bits`; empty when not clustered.
    func clusterCell(_ block: Block) -> String {
        guard let clusters = block.ownParameters.compactMap(\.clusters).first else { return "" }
        return "\(clusters.centroids.count) × \(clusters.bitsPerIndex) bits"
    }
}

extension ModelState {
    /// The file `save` writes, in bytes (masked and clustered weights
    /// compact), and the same model with every weight whole and no masks:
    /// what pruning and clustering save.
    var storedBytes: (stored: Int, dense: Int) {
        let saved = self.saved
        var whole = saved
        whole.tensors = model.namedParameters.map { ($0.name, $0.parameter.value) } + model.namedState.map { ($0.name, $0.state.value) }
            + startingDictionaryTensors
        return (saved.fileSize, whole.fileSize)
    }
}

private extension Array where Element == Float {
    var zeroCount: Int { reduce(0) { $0 + ($1 == 0 ? 1 : 0) } }
}
