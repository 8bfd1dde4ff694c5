/// What a model's outputs score against a data set's targets: accuracy and a
/// confusion matrix for class labels, squared and absolute errors for
/// real-valued targets and reconstructions.
public enum Metrics {
    public struct Evaluation: Sendable {
        public var loss: Double
        /// For class labels.
        public var accuracy: Double?
        /// `confusion[true][predicted]` counts, for class labels.
        public var confusion: [[Int]]?
        /// For real-valued targets: mean over every value.
        public var meanSquaredError: Double?
        public var meanAbsoluteError: Double?
    }

    /// The index of the largest output of each sample.
    public static func predictedClasses(_ output: Tensor) -> [Int] {
        let k = output.sampleSize
        return (0..<output.batch).map { r in
            var best = 0
            for j in 1..<max(1, k) where output[r * k + j] > output[r * k + best] { best = j }
            return best
        }
    }

    public static func correct(_ output: Tensor, labels: [Int]) -> Int {
        zip(predictedClasses(output), labels).reduce(0) { $0 + ($1.0 == $1.1 ? 1 : 0) }
    }

    /// Σ |output − target| over every value.
    public static func absoluteErrorSum(_ output: Tensor, _ targets: Tensor) -> Double {
        var sum = 0.0
        output.storage.withUnsafeBufferPointer { o in
            targets.storage.withUnsafeBufferPointer { t in for i in 0..<o.count { sum += Double(abs(o[i] - t[i])) } }
        }
        return sum
    }

    /// Σ (output − target)² over every value.
    public static func squaredErrorSum(_ output: Tensor, _ targets: Tensor) -> Double {
        var sum = 0.0
        output.storage.withUnsafeBufferPointer { o in
            targets.storage.withUnsafeBufferPointer { t in
                for i in 0..<o.count {
                    let d = o[i] - t[i]
                    sum += Double(d * d)
                }
            }
        }
        return sum
    }

    public static func evaluate(_ model: Sequential, on data: Dataset, loss: Loss) -> Evaluation {
        evaluate(model, on: data, loss: loss, shouldStop: { false })!
    }

    /// The same, nil when `shouldStop` (asked between batches) said stop.
    public static func evaluate(_ model: Sequential, on data: Dataset, loss: Loss, shouldStop: () -> Bool) -> Evaluation? {
        guard let output = model.predict(data.inputs, shouldStop: shouldStop) else { return nil }
        let targets = data.targets.gathering(Array(0..<data.count), inputs: data.inputs)
        let objective = loss == .lasso ? model.lassoObjective : nil
        var e = Evaluation(loss: data.count == 0 ? 0 : loss.evaluate(output, targets: targets, withGradient: false,
                                                                      objective: objective).loss)
        switch targets {
        case .classes(let labels):
            let k = output.sampleSize
            var confusion = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
            for (p, t) in zip(predictedClasses(output), labels) where t < k { confusion[t][p] += 1 }
            e.confusion = confusion
            e.accuracy = Double(correct(output, labels: labels)) / Double(max(1, labels.count))
        case .values(let t) where loss != .lasso:
            let values = Double(max(1, t.count))
            e.meanSquaredError = Loss.mse.evaluate(output, targets: targets, withGradient: false).loss
            e.meanAbsoluteError = absoluteErrorSum(output, t) / values
        case .values, .none:
            break
        }
        return e
    }
}
