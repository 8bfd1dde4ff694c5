/// One epoch of training, as `train` reports it. Accuracy is there for
/// class labels, the mean absolute error for real-valued targets.
public struct EpochRecord: Sendable, Equatable {
    public var epoch: Int
    /// The mean loss, penalties included.
    public var loss: Double
    public var accuracy: Double?
    public var meanAbsoluteError: Double?
    /// The layers' penalties' share of `loss` (0 without penalty layers).
    public var penalty = 0.0
    public var validationLoss: Double?
    public var validationAccuracy: Double?
    public var validationMeanAbsoluteError: Double?
    public var seconds: Double
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
}

public struct FitOptions: Sendable {
    public var epochs: Int
    public var batchSize: Int
    public var loss: Loss
    public init(epochs: Int, batchSize: Int, loss: Loss) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.loss = loss
    }
}

/// The fit loop: shuffled mini-batches, per-epoch loss and accuracy,
/// optional validation, progress callbacks, and interruption checked between
/// batches — a stopped fit leaves the weights of its last finished step.
public enum Trainer {
    public struct Outcome {
        public var history: [EpochRecord]
        public var interrupted: Bool
        /// Where the loss stopped being a finite number (Keras's
        /// TerminateOnNaN): that batch's update was not applied, so every
        /// weight is still a number (those of the step before).
        public var diverged: (epoch: Int, batch: Int)? = nil
    }

    /// Memory a fit needs beyond the model's weights and optimizer state:
    /// what every layer keeps for a batch, and the gradients of the replicas
    /// that run its shards.
    public static func batchBytes(_ model: Sequential, batchSize: Int) -> Int {
        let perSample = model.layers.reduce(0) { $0 + $1.trainingFloatsPerSample }
        return perSample * batchSize * 4 + (ShardedStep.shards(batch: batchSize, model: model) - 1) * model.parameterCount * 4
    }

    public static func fit(_ model: Sequential, on data: Dataset, options: FitOptions,
                           optimizer: Optimizer, validation: Dataset? = nil,
                           random: inout RandomGenerator, clock: () -> Double,
                           shouldStop: () -> Bool = { false },
                           progress: (FitProgress) -> Void = { _ in }) -> Outcome {
        Machine.keepFreedMemory()
        let n = data.count
        let batches = (n + options.batchSize - 1) / options.batchSize
        let fused = options.loss == .crossentropy && model.endsInSoftmax
        var history: [EpochRecord] = []
        let step = ShardedStep(model: model)
        for epoch in 1...max(1, options.epochs) {
            let started = clock()
            var order = Array(0..<n)
            order.shuffle(using: &random)
            var total = ShardedStep.Result(), seen = 0
            for b in 0..<batches {
                if shouldStop() { return Outcome(history: history, interrupted: true) }
                let indices = order[(b * options.batchSize)..<min(n, (b + 1) * options.batchSize)]
                let result = step.run(data, indices: indices, loss: options.loss, fused: fused)
                guard result.lossSum.isFinite else {
                    return Outcome(history: history, interrupted: false, diverged: (epoch, b + 1))
                }
                total = total + result
                optimizer.step(model.parameters)
                seen += indices.count
                let (accuracy, error) = means(total, seen: seen, data: data)
                progress(FitProgress(epoch: epoch, epochs: options.epochs, batch: b + 1, batches: batches, samplesSeen: seen,
                                     loss: total.lossSum / Double(seen), accuracy: accuracy, meanAbsoluteError: error))
            }
            let (accuracy, error) = means(total, seen: max(1, seen), data: data)
            var record = EpochRecord(epoch: epoch, loss: total.lossSum / Double(max(1, seen)), accuracy: accuracy,
                                     meanAbsoluteError: error, penalty: total.penaltySum / Double(max(1, seen)), seconds: 0)
            if let validation {
                let result = Metrics.evaluate(model, on: validation, loss: options.loss)
                record.validationLoss = result.loss
                record.validationAccuracy = result.accuracy
                record.validationMeanAbsoluteError = result.meanAbsoluteError
            }
            record.seconds = clock() - started
            history.append(record)
        }
        return Outcome(history: history, interrupted: false)
    }

    /// Accuracy (class labels) or mean absolute error (real-valued targets) so far.
    static func means(_ total: ShardedStep.Result, seen: Int, data: Dataset) -> (accuracy: Double?, error: Double?) {
        switch data.targets {
        case .classes: return (Double(total.correct) / Double(seen), nil)
        case .values(let t): return (nil, total.absoluteErrorSum / Double(seen * max(1, t.sampleSize)))
        case .none: return (nil, nil)
        }
    }
}
