import LoomCore
import LoomEngine
import LoomTensorBoard

/// `train … log "runs/NAME" [histograms every N]`: a TensorBoard event file
/// in that folder, written after each epoch with the history table's
/// figures and the learning rate (and, for a model with masks, the weight
/// sparsity of each layer and in total), and the weights' histograms every
/// N epochs and after the last. Steps are the model's epochs, so a second
/// `train` continues where the first ended, in a new file of the same folder.
/// Under several ranks rank 0 alone writes.
final class TrainingLog {
    private let file: EventFile?
    private let model: Sequential
    private let optimizer: Optimizer
    private let histogramsEvery: Int?
    private var lastHistograms: Int?
    /// The first write that failed; the log stops there and training goes on.
    private(set) var failure: FileError?

    /// Opens a new event file in `folder` (made when missing); every rank
    /// learns whether rank 0 could.
    init(folder: String, model: Sequential, optimizer: Optimizer, histogramsEvery: Int?) throws(FileError) {
        var opened: EventFile?
        var reason = ""
        if Ranks.current.rank == 0 {
            do { opened = try EventFile(folder: folder) } catch { reason = error.reason }
        }
        if Ranks.current.size > 1 { reason = Ranks.current.broadcast(text: reason, from: 0) }
        if !reason.isEmpty { throw FileError(path: folder, reason: reason) }
        file = opened
        self.model = model
        self.optimizer = optimizer
        self.histogramsEvery = histogramsEvery
    }

    /// The figures of the epoch that ended as the model's epoch `step`, and
    /// the histograms when `step` is a multiple of N.
    func epochEnded(_ record: EpochRecord, step: Int) {
        let histograms = histogramsEvery.map { step % $0 == 0 } ?? false
        write(step: step, scalars: scalars(record), histograms: histograms)
    }

    /// The histograms after the last epoch (`step`), unless that epoch wrote them.
    func finish(step: Int) {
        guard lastHistograms != step else { return }
        write(step: step, scalars: [], histograms: true)
    }

    private func write(step: Int, scalars: [(tag: String, value: Double)], histograms: Bool) {
        guard let file, failure == nil else { return }
        let values = histograms ? model.namedParameters.map { name, p in
            (tag: String(name.map { $0 == "." ? "/" : $0 }), values: p.value.storage)
        } : []
        do { try file.write(step: step, scalars: scalars, histograms: values) } catch { failure = error }
        if histograms { lastHistograms = step }
    }

    /// The history table's figures under its column names (`val_loss` for
    /// `val loss`, `seconds` for `time`), accuracy as a fraction.
    private func scalars(_ r: EpochRecord) -> [(tag: String, value: Double)] {
        let optional: [(String, Double?)] = [
            ("loss", r.loss), ("penalty", r.penalty != 0 ? r.penalty : nil), ("accuracy", r.accuracy),
            ("mse", r.meanSquaredError), ("mae", r.meanAbsoluteError),
            ("val_loss", r.validationLoss), ("val_accuracy", r.validationAccuracy),
            ("val_mse", r.validationMeanSquaredError), ("val_mae", r.validationMeanAbsoluteError),
            ("lr", r.learningRate ?? Double(optimizer.learningRate)), ("sparsity", r.sparsity),
            ("rewired", r.maskChanges.map(Double.init)), ("seconds", r.seconds),
        ]
        var scalars = optional.compactMap { tag, value in value.map { (tag: tag, value: $0) } }
        // Pruning during this `train` may give the model its masks.
        if model.parameters.contains(where: { $0.mask != nil }) {
            let sparsity = model.sparsity()
            for block in sparsity.blocks + [sparsity.total] {
                if let share = block.weightSparsity { scalars.append(("weight_sparsity/\(block.name)", share)) }
            }
        }
        return scalars
    }
}
