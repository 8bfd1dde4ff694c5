/// Accuracy, loss and confusion matrices.
public enum Metrics {
    public struct Evaluation: Sendable {
        public var loss: Double
        public var accuracy: Double
        /// `confusion[true][predicted]` counts.
        public var confusion: [[Int]]
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

    public static func evaluate(_ model: Sequential, inputs: Tensor, labels: [Int], loss: Loss) -> Evaluation {
        let output = model.predict(inputs)
        let k = output.sampleSize
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
        for (p, t) in zip(predictedClasses(output), labels) where t < k { confusion[t][p] += 1 }
        let value = labels.isEmpty ? 0 : loss.evaluate(output, labels: labels, withGradient: false).loss
        return Evaluation(loss: value, accuracy: Double(correct(output, labels: labels)) / Double(max(1, labels.count)),
                          confusion: confusion)
    }
}
