import LoomCore
import LoomEngine
import LoomRender

extension Evaluator {
    /// `show history M`: every epoch the model trained in this session, in
    /// one table (the table under `train` shortens a long run).
    func showHistory(_ a: Request<ModelRequest>) throws(LoomError) -> MimeBundle {
        let state = try modelState(a.model.expr)
        let name = state.model.name
        guard !state.history.isEmpty else {
            let before = state.epochsTrained > 0 ? " (its \(state.epochsTrained) epoch(s) came with the file it was loaded from)" : ""
            return MimeBundle(text: "`\(name)` has no training history in this session\(before): `train \(name) on DATA` makes one")
        }
        return historyTable(state.history, firstEpoch: state.epochsTrained - state.history.count)
    }

    /// Per epoch: the loss, then accuracy (class labels) or mean absolute
    /// error (values, reconstructions; after the mean squared error when the
    /// loss is bce), the penalties' share where layers add one, the same on
    /// the validation data, the mask entries rewiring changed, and the time.
    /// Rows are numbered as the model's epochs, from `firstEpoch + 1`. With
    /// `shortened`, a long run shows its first and last epochs and the best
    /// (an index into `history`), and a note names `show history`.
    func historyTable(_ history: [EpochRecord], firstEpoch: Int, notes: [String] = [],
                      shortened: (model: String, best: Int?)? = nil) -> MimeBundle {
        let loss = { (x: Double) in NumberFormat.fixed(x, decimals: 4) }
        var columns: [(name: String, value: (EpochRecord) -> String?)] = [("loss", { loss($0.loss) })]
        if history.contains(where: { $0.penalty != 0 }) { columns.append(("penalty", { loss($0.penalty) })) }
        columns += [("accuracy", { $0.accuracy.map { NumberFormat.percent($0) } }), ("mse", { $0.meanSquaredError.map(loss) }),
                    ("mae", { $0.meanAbsoluteError.map(loss) }), ("val loss", { $0.validationLoss.map(loss) }),
                    ("val accuracy", { $0.validationAccuracy.map { NumberFormat.percent($0) } }),
                    ("val mse", { $0.validationMeanSquaredError.map(loss) }), ("val mae", { $0.validationMeanAbsoluteError.map(loss) }),
                    ("lr", { $0.learningRate.map { NumberFormat.short($0, significant: 3) } }),
                    ("sparsity", { $0.sparsity.map { NumberFormat.percent($0) } }),
                    ("rewired", { $0.maskChanges.map(NumberFormat.grouped) }),
                    ("time", { NumberFormat.fixed($0.seconds, decimals: 1) + " s" })]
        // A column shows when some epoch has its figure.
        columns = columns.filter { column in history.contains { column.value($0) != nil } }
        let rows: [Int?] = shortened.map { HistoryRows.shown(count: history.count, best: $0.best) } ?? (0..<history.count).map { Optional($0) }
        var notes = notes
        if let shortened, rows.count < history.count {
            let best = shortened.best.map { rows.contains($0) && $0 >= HistoryRows.edge && $0 < history.count - HistoryRows.edge
                ? ", the best (epoch \(firstEpoch + $0 + 1))" : "" } ?? ""
            notes.append("epochs \(firstEpoch + 1) to \(firstEpoch + history.count): the first and last \(HistoryRows.edge)\(best) shown; "
                         + "`show history \(shortened.model)` shows every epoch the model trained")
        }
        let ranks = Ranks.current.size
        var table = Table(title: ranks > 1 ? "training on \(ranks) ranks × \(session.threads) thread(s)" : "training", columns: [Table.Column("epoch", .right)] + columns.map { Table.Column($0.name, .right) },
                          note: notes.isEmpty ? nil : notes.joined(separator: "\n"))
        for row in rows {
            guard let row else {
                table.append(["⋮"] + columns.map { _ in "" })
                continue
            }
            table.append([String(firstEpoch + row + 1)] + columns.map { $0.value(history[row]) ?? "" })
        }
        return table.bundle(width: session.width)
    }
}

/// Which epochs a training table shows: all of a short run; of a long one
/// the first and last few and the best, so the table stays a screenful.
public enum HistoryRows {
    /// The most rows shown in full.
    public static let limit = 40
    /// How many epochs a long run shows at each end.
    public static let edge = 5

    /// Indices into a history of `count` epochs, in order, nil where epochs
    /// are left out.
    public static func shown(count: Int, best: Int?) -> [Int?] {
        guard count > limit else { return (0..<count).map { Optional($0) } }
        var kept = Set(0..<edge).union((count - edge)..<count)
        if let best, (0..<count).contains(best) { kept.insert(best) }
        var rows: [Int?] = []
        var previous: Int?
        for i in kept.sorted() {
            if let previous, i > previous + 1 { rows.append(nil) }
            rows.append(i)
            previous = i
        }
        return rows
    }
}
