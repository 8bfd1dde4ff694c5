#if canImport(Glibc)
import Glibc
#endif

/// One epoch of training, as `train` reports it. Accuracy is there for
/// class labels, the mean absolute error for real-valued targets (and the
/// mean squared error too when the loss is binary cross-entropy).
public struct EpochRecord: Sendable, Equatable {
    public var epoch: Int
    /// The mean loss, penalties included.
    public var loss: Double
    public var accuracy: Double?
    public var meanAbsoluteError: Double?
    public var meanSquaredError: Double?
    /// The penalties' share of `loss`: activity layers' and weight decay's (0 without either).
    public var penalty = 0.0
    public var validationLoss: Double?
    public var validationAccuracy: Double?
    public var validationMeanAbsoluteError: Double?
    public var validationMeanSquaredError: Double?
    public var seconds: Double
    /// The learning rate this epoch ran with (a schedule changes it).
    public var learningRate: Double?
    /// The share of the pruned weights that are zero after the epoch
    /// (gradual pruning sets it; nil without).
    public var sparsity: Double?
    /// Mask entries changed by rewiring this epoch (nil without rewiring).
    public var maskChanges: Int?

    public init(epoch: Int, loss: Double, accuracy: Double? = nil, meanAbsoluteError: Double? = nil,
                meanSquaredError: Double? = nil, penalty: Double = 0, seconds: Double) {
        self.epoch = epoch
        self.loss = loss
        self.accuracy = accuracy
        self.meanAbsoluteError = meanAbsoluteError
        self.meanSquaredError = meanSquaredError
        self.penalty = penalty
        self.seconds = seconds
    }
}

extension Collection where Element == EpochRecord {
    /// The mean time an epoch took, or nil before any epoch ran.
    public var meanEpochSeconds: Double? {
        isEmpty ? nil : reduce(0) { $0 + $1.seconds } / Double(count)
    }
}

/// Where a running fit is: for progress displays.
public struct FitProgress: Sendable {
    public var epoch: Int
    public var epochs: Int
    public var batch: Int
    public var batches: Int
    public var samplesSeen: Int
    public var loss: Double
    public var accuracy: Double?
    public var meanAbsoluteError: Double?
    public var meanSquaredError: Double?
}

public struct FitOptions: Sendable {
    public var epochs: Int
    public var batchSize: Int
    public var loss: Loss
    /// Stop when the monitored figure has not improved for a while.
    public var earlyStopping: EarlyStopping?
    /// Which figure decides the best epoch (early stopping, checkpoints).
    public var monitor: Monitor
    public var schedule: LearningRateSchedule?
    /// Dynamic sparse training of the masked weights.
    public var rewiring: Rewiring?
    /// Samples evaluated at a time on the validation data after each epoch.
    public var validationBatch = Sequential.inferenceBatch
    public init(epochs: Int, batchSize: Int, loss: Loss, earlyStopping: EarlyStopping? = nil, monitor: Monitor = .loss,
                schedule: LearningRateSchedule? = nil) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.loss = loss
        self.earlyStopping = earlyStopping
        self.monitor = monitor
        self.schedule = schedule
    }
}

/// The figure an epoch is judged by: the validation data's when there is
/// some, else the training data's.
public enum Monitor: String, Sendable, CaseIterable {
    case loss, accuracy

    /// The epoch's figure, and whether larger is better.
    func value(_ r: EpochRecord) -> (value: Double, larger: Bool)? {
        switch self {
        case .loss: return (r.validationLoss ?? r.loss, false)
        case .accuracy: return (r.validationAccuracy ?? r.accuracy).map { ($0, true) }
        }
    }
}

/// Keras's `EarlyStopping`: stop after `patience` epochs without an
/// improvement; with `restoreBest`, end with the best epoch's weights.
public struct EarlyStopping: Sendable, Equatable {
    public var patience: Int
    public var restoreBest: Bool
    public init(patience: Int, restoreBest: Bool) {
        self.patience = patience
        self.restoreBest = restoreBest
    }
}

/// How the learning rate changes from epoch to epoch (as a factor of the optimizer's).
public enum LearningRateSchedule: Sendable, Equatable {
    /// × `factor` every `every` epochs (PyTorch's StepLR).
    case step(every: Int, factor: Double)
    /// Half a cosine from 1 down to 0 over the run's epochs (CosineAnnealingLR).
    case cosine
    /// Rising linearly to 1 over the first `epochs` epochs, then 1.
    case warmup(epochs: Int)

    /// The factor for epoch `epoch` (from 1) of `total`.
    public func factor(epoch: Int, of total: Int) -> Double {
        switch self {
        case .step(let every, let factor): return pow(factor, Double((epoch - 1) / max(1, every)))
        case .cosine: return total > 1 ? 0.5 * (1 + cos(Double.pi * Double(epoch - 1) / Double(total))) : 1
        case .warmup(let n): return min(1, Double(epoch) / Double(max(1, n)))
        }
    }
}

/// The fit loop: shuffled mini-batches, per-epoch loss and accuracy,
/// optional validation, progress callbacks, and interruption checked between
/// batches — a stopped fit leaves the weights of its last finished step.
/// `epochEnded` gets each epoch's whole record (validation included) while
/// the model still holds that epoch's weights.
public enum Trainer {
    public struct Outcome {
        public var history: [EpochRecord]
        public var interrupted: Bool
        /// Where the loss stopped being a finite number (Keras's
        /// TerminateOnNaN): that batch's update was not applied, so every
        /// weight is still a number (those of the step before).
        public var diverged: (epoch: Int, batch: Int)? = nil
        /// The best epoch by the monitored figure (of this fit, from 1).
        public var bestEpoch: Int? = nil
        /// The epoch after which early stopping ended the fit.
        public var stoppedEarly: Int? = nil
        /// Whether the weights were put back to the best epoch's.
        public var restored = false
    }

    public static func fit(_ model: Sequential, on data: Dataset, options: FitOptions,
                           optimizer: Optimizer, validation: Dataset? = nil,
                           random: inout RandomGenerator, clock: () -> Double,
                           shouldStop: () -> Bool = { false }, hooks: [any TrainingHook] = [],
                           progress: (FitProgress) -> Void = { _ in },
                           newBest: (EpochRecord) -> Void = { _ in }, epochEnded: (EpochRecord) -> Void = { _ in },
                           ranks: any Collective = Ranks.current) -> Outcome {
        Machine.keepFreedMemory()
        let n = data.count
        let batches = (n + options.batchSize - 1) / options.batchSize
        let fused = options.loss.fuses(with: model)
        var history: [EpochRecord] = []
        let step = ShardedStep(model: model, ranks: ranks)
        var best: (epoch: Int, value: Double, weights: [Tensor]?)?
        var outcome = Outcome(history: [], interrupted: false)
        let rewiring = options.rewiring.map {
            RewiringRun(rule: $0, weights: SparseWeights.prunable(model.layers).filter { $0.mask != nil },
                        total: max(1, options.epochs) * batches)
        }
        /// The fit's end: the best epoch's weights back when asked for.
        func finish(_ o: Outcome) -> Outcome {
            var o = o
            o.history = history
            o.bestEpoch = best?.epoch
            optimizer.rateScale = 1
            rewiring?.end()
            if let weights = best?.weights, options.earlyStopping?.restoreBest == true, best!.epoch < history.count {
                for (p, w) in zip(model.parameters, weights) {
                    p.value = w
                    p.clusters?.adoptCentroids(of: p)
                    // Rewiring may have moved the mask since.
                    p.applyMask()
                }
                o.restored = true
            }
            return o
        }
        for hook in hooks { hook.fitStarts(batchesPerEpoch: batches) }
        var steps = 0
        for epoch in 1...max(1, options.epochs) {
            let started = clock()
            let scale = options.schedule?.factor(epoch: epoch, of: options.epochs) ?? 1
            optimizer.rateScale = Float(scale)
            var order = Array(0..<n)
            order.shuffle(using: &random)
            var total = ShardedStep.Result(), seen = 0, maskChanges = 0
            for b in 0..<batches {
                if shouldStop() { return finish(Outcome(history: history, interrupted: true)) }
                let indices = order[(b * options.batchSize)..<min(n, (b + 1) * options.batchSize)]
                let t = (epoch - 1) * batches + b + 1
                rewiring?.prepare(step: t)
                let result = step.run(data, indices: indices, loss: options.loss, fused: fused)
                guard result.lossSum.isFinite else {
                    return finish(Outcome(history: history, interrupted: false, diverged: (epoch, b + 1)))
                }
                total = total + result
                step.finish()
                maskChanges += rewiring?.rewire(step: t, random: &random) ?? 0
                optimizer.step(model.parameters)
                steps += 1
                for hook in hooks { hook.afterStep(steps) }
                seen += indices.count
                let m = means(total, seen: seen, data: data, loss: options.loss)
                progress(FitProgress(epoch: epoch, epochs: options.epochs, batch: b + 1, batches: batches, samplesSeen: seen,
                                     loss: total.lossSum / Double(seen), accuracy: m.accuracy, meanAbsoluteError: m.absolute,
                                     meanSquaredError: m.squared))
            }
            let m = means(total, seen: max(1, seen), data: data, loss: options.loss)
            var record = EpochRecord(epoch: epoch, loss: total.lossSum / Double(max(1, seen)), accuracy: m.accuracy,
                                     meanAbsoluteError: m.absolute, meanSquaredError: m.squared,
                                     penalty: total.penaltySum / Double(max(1, seen)), seconds: 0)
            for hook in hooks { hook.afterEpoch(epoch, record: &record) }
            if let validation {
                let result = Metrics.evaluate(model, on: validation, loss: options.loss, batchSize: options.validationBatch)
                record.validationLoss = result.loss
                record.validationAccuracy = result.accuracy
                record.validationMeanAbsoluteError = result.meanAbsoluteError
                if m.squared != nil { record.validationMeanSquaredError = result.meanSquaredError }
            }
            record.seconds = clock() - started
            if rewiring != nil { record.maskChanges = maskChanges }
            if options.schedule != nil { record.learningRate = Double(optimizer.learningRate) * scale }
            history.append(record)
            epochEnded(record)
            // The best epoch so far, by the monitored figure.
            if let (value, larger) = options.monitor.value(record), value.isFinite {
                if best == nil || (larger ? value > best!.value : value < best!.value) {
                    best = (epoch, value, options.earlyStopping?.restoreBest == true ? model.parameters.map(\.value) : nil)
                    newBest(record)
                } else if let stopping = options.earlyStopping, epoch - best!.epoch >= stopping.patience {
                    outcome.stoppedEarly = epoch
                    return finish(outcome)
                }
            }
        }
        return finish(outcome)
    }

    /// Accuracy (class labels) or the mean absolute error (real-valued
    /// targets, reconstructions) so far, with the mean squared error when
    /// the loss is binary cross-entropy (for mse it is the loss); none for
    /// lasso, whose outputs are codes of the inputs, not the inputs.
    static func means(_ total: ShardedStep.Result, seen: Int, data: Dataset,
                      loss: Loss) -> (accuracy: Double?, absolute: Double?, squared: Double?) {
        let width: Int
        if loss == .lasso { return (nil, nil, nil) }
        switch data.targets {
        case .classes: return (Double(total.correct) / Double(seen), nil, nil)
        case .values(let t): width = t.sampleSize
        case .inputs: width = data.inputs.sampleSize
        case .none: return (nil, nil, nil)
        }
        let values = Double(seen * max(1, width))
        return (nil, total.absoluteErrorSum / values, loss == .bce ? total.squaredErrorSum / values : nil)
    }
}
