/// Samples and their integer class labels.
public struct Dataset: Sendable {
    /// `[samples, …sample shape]`.
    public var inputs: Tensor
    public var labels: [Int]
    public var classes: Int

    public init(inputs: Tensor, labels: [Int], classes: Int? = nil) {
        precondition(inputs.batch == labels.count, "Dataset: \(inputs.batch) samples but \(labels.count) labels")
        self.inputs = inputs
        self.labels = labels
        self.classes = classes ?? ((labels.max() ?? -1) + 1)
    }

    public var count: Int { labels.count }
    public var sampleShape: [Int] { Array(inputs.shape.dropFirst()) }

    public func subset(_ indices: [Int]) -> Dataset {
        Dataset(inputs: inputs.gathering(samples: indices), labels: indices.map { labels[$0] }, classes: classes)
    }

    /// A stratified split: each class is shuffled and cut at `fraction`, so
    /// both parts keep the class balance. Seeded by `random`.
    public func split(train fraction: Double, random: inout RandomGenerator) -> (train: Dataset, test: Dataset) {
        var byClass: [Int: [Int]] = [:]
        for (i, label) in labels.enumerated() { byClass[label, default: []].append(i) }
        var train: [Int] = [], test: [Int] = []
        for label in byClass.keys.sorted() {
            var members = byClass[label]!
            members.shuffle(using: &random)
            let cut = Int((Double(members.count) * fraction).rounded())
            train += members[..<cut]
            test += members[cut...]
        }
        train.shuffle(using: &random)
        test.shuffle(using: &random)
        return (subset(train), subset(test))
    }

    /// Samples per class.
    public var classCounts: [Int] {
        var counts = [Int](repeating: 0, count: classes)
        for l in labels where l >= 0 && l < classes { counts[l] += 1 }
        return counts
    }
}
