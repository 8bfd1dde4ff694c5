/// One epoch of training, as `train` reports it.
public struct EpochRecord: Sendable, Equatable {
    public var epoch: Int
    public var loss: Double
    public var accuracy: Double
    public var validationLoss: Double?
    public var validationAccuracy: Double?
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
    public var accuracy: Double
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
    }

    /// Memory a fit needs beyond the model's weights and optimizer state:
    /// what every layer keeps for a batch, and the gradients of the replicas
    /// that run its shards.
    public static func batchBytes(_ model: Sequential, batchSize: Int) -> Int {
        let perSample = model.layers.reduce(0) { $0 + $1.trainingFloatsPerSample }
        return perSample * batchSize * 4 + (ShardedStep.shards(batch: batchSize) - 1) * model.parameterCount * 4
    }

    public static func fit(_ model: Sequential, inputs: Tensor, labels: [Int], options: FitOptions,
                           optimizer: Optimizer, validation: (inputs: Tensor, labels: [Int])? = nil,
                           random: inout RandomGenerator, clock: () -> Double,
                           shouldStop: () -> Bool = { false },
                           progress: (FitProgress) -> Void = { _ in }) -> Outcome {
        Machine.keepFreedMemory()
        let n = inputs.batch
        let batches = (n + options.batchSize - 1) / options.batchSize
        let fused = options.loss == .crossentropy && model.endsInSoftmax
        var history: [EpochRecord] = []
        let step = ShardedStep(model: model)
        for epoch in 1...max(1, options.epochs) {
            let started = clock()
            var order = Array(0..<n)
            order.shuffle(using: &random)
            var lossSum = 0.0, correct = 0, seen = 0
            for b in 0..<batches {
                if shouldStop() { return Outcome(history: history, interrupted: true) }
                let indices = order[(b * options.batchSize)..<min(n, (b + 1) * options.batchSize)]
                let result = step.run(inputs: inputs, labels: labels, indices: indices, loss: options.loss, fused: fused)
                optimizer.step(model.parameters)
                lossSum += result.lossSum
                correct += result.correct
                seen += indices.count
                progress(FitProgress(epoch: epoch, epochs: options.epochs, batch: b + 1, batches: batches,
                                     samplesSeen: seen, loss: lossSum / Double(seen), accuracy: Double(correct) / Double(seen)))
            }
            var record = EpochRecord(epoch: epoch, loss: lossSum / Double(max(1, seen)),
                                     accuracy: Double(correct) / Double(max(1, seen)), seconds: 0)
            if let validation {
                let result = Metrics.evaluate(model, inputs: validation.inputs, labels: validation.labels, loss: options.loss)
                record.validationLoss = result.loss
                record.validationAccuracy = result.accuracy
            }
            record.seconds = clock() - started
            history.append(record)
        }
        return Outcome(history: history, interrupted: false)
    }
}
