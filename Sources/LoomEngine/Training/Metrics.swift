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

    /// Σ |output − target| over every value, added onto `start` in order.
    public static func absoluteErrorSum(_ output: Tensor, _ targets: Tensor, onto start: Double = 0) -> Double {
        var sum = start
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

    public static func evaluate(_ model: Sequential, on data: Dataset, loss: Loss,
                                batchSize: Int = Sequential.inferenceBatch) -> Evaluation {
        evaluate(model, on: data, loss: loss, batchSize: batchSize, shouldStop: { false })!
    }

    /// The same, nil when `shouldStop` (asked between batches) said stop.
    /// The outputs are scored a run of batches at a time and let go, so the
    /// memory used does not grow with the data set; every sum runs in sample
    /// order, so the figures are those of one pass over all the outputs.
    public static func evaluate(_ model: Sequential, on data: Dataset, loss: Loss, batchSize: Int = Sequential.inferenceBatch,
                                shouldStop: () -> Bool) -> Evaluation? {
        let k = model.outputShape.reduce(1, *)
        var lossSum = 0.0, squaredSum = 0.0, absoluteSum = 0.0
        var confusion: [[Int]]?, correctCount = 0
        let objective = loss == .lasso ? model.lassoObjective : nil
        let finished = model.predictInRuns(data.inputs, batchSize: batchSize, shouldStop: shouldStop) { samples, inputs, output in
            let targets = data.targets.gathering(Array(samples), inputs: inputs)
            loss.addSum(of: output, targets: targets, objective: objective, to: &lossSum)
            switch targets {
            case .classes(let labels):
                if confusion == nil { confusion = [[Int]](repeating: [Int](repeating: 0, count: k), count: k) }
                for (p, t) in zip(predictedClasses(output), labels) where t < k { confusion![t][p] += 1 }
                correctCount += correct(output, labels: labels)
            case .values(let t) where loss != .lasso:
                Loss.mse.addSum(of: output, targets: targets, to: &squaredSum)
                absoluteSum = absoluteErrorSum(output, t, onto: absoluteSum)
            case .values, .none:
                break
            }
        }
        guard finished else { return nil }
        let n = data.count
        var e = Evaluation(loss: n == 0 ? 0 : loss.mean(ofSum: lossSum, samples: n, values: k))
        switch data.targets {
        case .classes:
            e.confusion = confusion ?? [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
            e.accuracy = Double(correctCount) / Double(max(1, n))
        case .values, .inputs:
            guard loss != .lasso else { break }
            e.meanSquaredError = Loss.mse.mean(ofSum: squaredSum, samples: n, values: k)
            e.meanAbsoluteError = absoluteSum / Double(max(1, n * k))
        case .none:
            break
        }
        return e
    }
}
