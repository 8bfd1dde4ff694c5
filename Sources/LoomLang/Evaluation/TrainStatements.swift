import LoomCore
import LoomEngine
import LoomRender
#if canImport(Glibc)
import Glibc
#endif

extension Evaluator {
    /// Checks that `data` fits `model`'s input, and that its targets fit the
    /// model's output: class labels a flat output with a unit per class,
    /// real-valued targets an output of their shape, the inputs (a
    /// reconstruction) an output of the input's shape.
    func check(_ data: Dataset, fits model: Sequential, at range: SourceRange) throws(LoomError) {
        try check(inputs: data, fit: model, at: range)
        switch data.targets {
        case .classes(_, let classes):
            guard model.outputShape.count == 1, model.outputShape[0] >= classes else {
                throw LoomError(.value, "`\(model.name)` gives \(Shape.text(model.outputShape)) outputs but the data has "
                                + "\(classes) classes; end the model with `dense \(classes) softmax`", at: range)
            }
        case .values(let t):
            let shape = Array(t.shape.dropFirst())
            guard model.outputShape == shape else {
                throw LoomError(.value, "`\(model.name)` gives \(Shape.text(model.outputShape)) outputs but the data's targets "
                                + "are \(Shape.text(shape))" + (shape.count == 1 ? "; end the model with `dense \(shape[0]) linear`" : ""),
                                at: range)
            }
        case .inputs:
            try checkReconstructs(model, at: range)
        case .none:
            let hint = Shape.count(model.outputShape) == Shape.count(model.inputShape)
                ? "; add `target inputs` to measure how well `\(model.name)` reconstructs its inputs" : ""
            throw LoomError(.value, "the data has no targets (class labels or values) to compare the model's outputs with"
                            + hint, at: range)
        }
    }

    /// Checks that `data`'s samples are what `model` takes (its targets aside).
    func check(inputs data: Dataset, fit model: Sequential, at range: SourceRange) throws(LoomError) {
        guard data.sampleShape == model.inputShape else {
            throw LoomError(.value, "the data's samples are \(Shape.text(data.sampleShape)) but `\(model.name)` takes "
                            + "\(Shape.text(model.inputShape))" + flatSamplesHint(data.sampleShape, model.inputShape), at: range)
        }
    }

    /// Flat samples (a CSV row) for a model that takes images: the `shape`
    /// that reads them as its input, when the counts agree.
    func flatSamplesHint(_ samples: [Int], _ input: [Int]) -> String {
        guard samples.count == 1, input.count > 1 else { return "" }
        let shape = Shape.text(input)
        guard Shape.count(input) == samples[0] else {
            return "; a CSV file's rows are read as images with `shape`, as in `data NAME = csv \"FILE\" shape \(shape)`"
        }
        return "; the samples hold \(samples[0]) values, as many as \(shape): read the CSV file with `shape \(shape)` "
            + "(`data NAME = csv \"FILE\" shape \(shape)`)"
    }

    /// `train M on DATA …`: the fit loop with a live progress line; ends with
    /// the per-epoch table and the loss curve.
    func train(_ a: Request<TrainRequest>) throws(LoomError) -> SessionResult {
        let state = try modelState(a.model.expr)
        let model = state.model
        let reconstructs = a.target?.text == "inputs"
        // The lasso objective scores codes against the samples they code.
        let lasso = a.loss == .lasso
        if lasso { try checkLassoTraining(a, model) }
        var codes: SessionCodes?
        if let target = a.target, !reconstructs { codes = try sparseCodes(target.expr) }
        var data = try targets(dataset(a.on.expr), reconstructs || lasso)
        if let codes, let target = a.target {
            if a.validate != nil {
                throw LoomError(.value, "`target \(target.text)` holds codes of the training data only: leave out `validate`",
                                at: a.range(of: \.validate))
            }
            data = try codesAsTargets(data, codes, names: (a.on.text, target.text), at: a.range(of: \.target))
        }
        /// The samples fit the model, and its outputs fit the targets unless they are codes of the samples.
        func checkFits(_ data: Dataset, at range: SourceRange) throws(LoomError) {
            if lasso { try check(inputs: data, fit: model, at: range) } else { try check(data, fits: model, at: range) }
        }
        try checkFits(data, at: a.on.range)
        let validation = try a.validate.map { v throws(LoomError) in targets(try dataset(v.expr), reconstructs || lasso) }
        if let validation { try checkFits(validation, at: a.range(of: \.validate)) }
        let epochs = a.epochs
        let batch = a.batch
        let kind = a.optimizer
        // A reconstruction has no classes: its loss is mse unless another is given.
        let loss = (reconstructs || codes != nil) && !a.given(\.loss) ? .mse : a.loss
        if loss == .crossentropy && !model.endsInSoftmax {
            throw LoomError(.value, "crossentropy needs probabilities: end `\(model.name)` with a softmax layer, or use `loss mse`",
                            at: a.range)
        }
        if loss == .bce { try checkBinaryCrossEntropy(model, on: [data] + (validation.map { [$0] } ?? []), at: a.range) }
        let lr = a.lr.map(Float.init)
        if a.decay != nil && kind != .adamw {
            throw LoomError(.value, "`decay` is AdamW's decoupled weight decay: use `optimizer adamw`, or decay the loss "
                            + "with `l2 λ` on the layers for \(kind.rawValue)", at: a.range(of: \.decay))
        }
        let decay = a.decay.map(Float.init)
        let batchBytes = Trainer.batchBytes(model, batchSize: batch)
        try checkMemory(bytes: batchBytes, what: "a batch of \(batch)", at: a.range)
        var options = FitOptions(epochs: epochs, batchSize: batch, loss: loss, monitor: a.monitor,
                                 schedule: a.schedule)
        if validation != nil {
            // Evaluated beside what the training batch keeps, as many samples at a time as fit.
            options.validationBatch = model.inferenceBatch(fitting: max(0, memoryBudget - batchBytes))
            if options.validationBatch == 0 {
                try checkMemory(bytes: MemoryAccount.sum(batchBytes, model.inferenceBytes(samples: 1)),
                                what: "a batch of \(batch) and evaluating the validation data one sample at a time",
                                at: a.range(of: \.validate))
                options.validationBatch = 1
            }
        }
        if let rewiring = a.rewire {
            guard SparseWeights.prunable(model.layers).contains(where: { $0.mask != nil }) else {
                throw LoomError(.value, "`rewire` moves the masks of sparse layers, and `\(model.name)` has none: give a layer "
                                + "`sparse P%` (or prune the model first)", at: a.range(of: \.rewire))
            }
            options.rewiring = rewiring
        }
        if let patience = a.patience {
            options.earlyStopping = EarlyStopping(patience: patience, restoreBest: a.restore)
        } else if a.restore {
            options.earlyStopping = EarlyStopping(patience: Int.max / 2, restoreBest: true)
        }
        if options.monitor == .accuracy, data.classes == 0 {
            throw LoomError(.value, "`monitor accuracy` needs class labels; these targets are "
                            + (reconstructs || lasso ? "the inputs" : "values") + " (monitor loss)", at: a.range(of: \.monitor))
        }
        let (hooks, snapshot) = try pruningHooks(a, state, first: state.epochsTrained)
        let checkpoint = a.checkpoint
        // Before any epoch runs: a checkpoint that cannot be written would fail only after one.
        if let checkpoint { try checkWritable("the checkpoint", at: checkpoint, range: a.range(of: \.checkpoint)) }
        var checkpointError: LoomError?
        var checkpointHolds: Int?
        if state.optimizer?.kind != kind || (lr != nil && state.optimizer?.learningRate != lr)
            || (decay != nil && state.optimizer?.weightDecay != decay) {
            state.optimizer = Optimizer(kind, learningRate: lr, weightDecay: decay)
        }
        let log = try trainingLog(a, model: model, optimizer: state.optimizer!)
        useThreads(session.threads)
        state.reconstructionLoss = reconstructs ? loss : nil
        state.trainedOnLasso = lasso

        let progress = ProgressDisplay(output: output, displayID: session.newDisplayID(), width: session.width, mode: session.progress)
        let started = Monotonic.now
        let first = state.epochsTrained
        // Epochs are counted as the model's, here as in the history table and the notes.
        var bar = ProgressBar(label: "epoch \(first + 1)/\(first + epochs)", total: (data.count + batch - 1) / batch, unit: "batch")
        progress.show(bar, force: true)
        let alreadyTrained = state.epochsTrained
        let outcome = Trainer.fit(model, on: data, options: options,
                                  optimizer: state.optimizer!, validation: validation,
                                  random: &session.random, clock: { Monotonic.now },
                                  shouldStop: { Interruption.agreed() || checkpointError != nil }, hooks: hooks,
                                  progress: { p in
            bar.label = "epoch \(first + p.epoch)/\(first + p.epochs)"
            bar.completed = p.batch
            bar.run = ((p.epoch - 1) * p.batches + p.batch, p.epochs * p.batches)
            bar.elapsed = Monotonic.now - started
            bar.metrics = [("loss", NumberFormat.fixed(p.loss, decimals: 4))]
                + (p.accuracy.map { [("acc", NumberFormat.percent($0))] } ?? [])
                + (p.meanSquaredError.map { [("mse", NumberFormat.fixed($0, decimals: 4))] } ?? [])
                + (p.meanAbsoluteError.map { [("mae", NumberFormat.fixed($0, decimals: 4))] } ?? [])
            progress.show(bar, force: p.batch == p.batches)
        }, newBest: { record in
            // The best model so far, written whole or not at all.
            guard let checkpoint, checkpointError == nil else { return }
            state.epochsTrained = alreadyTrained + record.epoch
            do {
                try self.write(state.saved, to: checkpoint)
                checkpointHolds = record.epoch
            } catch {
                checkpointError = LoomError(.io, "cannot write the checkpoint \(error)", at: a.range(of: \.checkpoint))
            }
            state.epochsTrained = alreadyTrained
        }, epochEnded: { record in log?.epochEnded(record, step: first + record.epoch) })
        progress.finish()
        if let log, !outcome.history.isEmpty, !outcome.interrupted, outcome.diverged == nil {
            log.finish(step: first + outcome.history.count)
        }
        state.epochsTrained += outcome.history.count
        state.history += outcome.history
        finishPruning(state, a, snapshot: snapshot, first: first)
        var bundles: [MimeBundle] = []
        if !outcome.history.isEmpty || !(outcome.interrupted || outcome.diverged != nil) {
            let curves = [(name: "loss", values: state.history.map(\.loss))]
                + (state.history.allSatisfy { $0.validationLoss != nil }
                   ? [(name: "validation loss", values: state.history.map { $0.validationLoss! })] : [])
            let notes = fitNotes(outcome, options, validation != nil, first: first, checkpoint: checkpoint, holding: checkpointHolds)
            bundles = [historyTable(outcome.history, firstEpoch: first, notes: notes,
                                    shortened: (model: model.name, best: outcome.bestEpoch.map { $0 - 1 })),
                       LinePlot(curves, title: "loss by epoch", xLabel: "epoch", height: 10)
                        .bundle(svg: session.drawsSVG, width: session.width)]
        }
        let last = outcome.history.last
        var figures: [(String, Value?)] = [("loss", last.map { .number($0.loss) })]
        figures.append(("accuracy", last?.accuracy.map { .percent($0) }))
        figures.append(("mse", last?.meanSquaredError.map { .number($0) }))
        figures.append(("mae", last?.meanAbsoluteError.map { .number($0) }))
        figures.append(("val_loss", last?.validationLoss.map { .number($0) }))
        figures.append(("val_accuracy", last?.validationAccuracy.map { .percent($0) }))
        figures.append(("epochs", .number(Double(outcome.history.count))))
        figures.append(("seconds", .number(outcome.history.reduce(0) { $0 + $1.seconds })))
        figures.append(("best_epoch", outcome.bestEpoch.map { .number(Double(first + $0)) }))
        let kept = result("training of \(model.name)", figures, showing: bundles)
        if let checkpointError { throw checkpointError }
        if let failure = log?.failure {
            throw LoomError(.io, "the log stopped: cannot write \(failure)", at: a.range(of: \.log))
        }
        if let (epoch, batch) = outcome.diverged {
            throw LoomError(.value, "training stopped at epoch \(first + epoch), batch \(batch): the loss is no longer a finite "
                            + "number; `\(model.name)` keeps its weights from before that batch (try a smaller lr)", at: a.range)
        }
        if outcome.interrupted {
            let finished = outcome.history.isEmpty ? "during epoch \(first + 1)" : "after epoch \(first + outcome.history.count)"
            throw LoomError(.interrupted, "training stopped by the user \(finished); "
                            + "`\(model.name)` keeps the weights of its last finished step", at: a.range)
        }
        return kept
    }

    /// The TensorBoard log `train` asked for, its folder made and its file
    /// opened before any epoch runs; nil without `log`.
    func trainingLog(_ a: Request<TrainRequest>, model: Sequential, optimizer: Optimizer) throws(LoomError) -> TrainingLog? {
        guard let folder = a.log else {
            if a.histograms != nil {
                throw LoomError(.value, "`histograms` go into the `log` folder: add `log \"runs/NAME\"`",
                                at: a.range(of: \.histograms))
            }
            return nil
        }
        do { return try TrainingLog(folder: folder, model: model, optimizer: optimizer, histogramsEvery: a.histograms) } catch {
            throw LoomError(.io, "cannot write the log \(error)", at: a.range(of: \.log))
        }
    }

    /// Under the history table: the best epoch, why training stopped, what
    /// was restored, and the epoch the checkpoint holds (`holding`: the last
    /// one written, nil when none was).
    func fitNotes(_ o: Trainer.Outcome, _ options: FitOptions, _ validated: Bool, first: Int, checkpoint: String?,
                  holding: Int?) -> [String] {
        guard options.earlyStopping != nil || checkpoint != nil, let best = o.bestEpoch else { return [] }
        let figure = (validated ? "validation " : "training ") + options.monitor.rawValue
        var notes = ["best epoch: \(first + best) (by the \(figure))"]
        if let stopped = o.stoppedEarly, let patience = options.earlyStopping?.patience {
            notes.append("stopped early after epoch \(first + stopped): no better \(figure) in \(patience) epoch(s)")
        }
        if o.restored { notes.append("the weights are those of epoch \(first + best)") }
        if let checkpoint, let holding { notes.append("checkpoint: \(checkpoint) holds epoch \(first + holding)") }
        return notes
    }
}
