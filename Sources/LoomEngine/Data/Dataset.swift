/// Samples and what each is to be mapped to.
public struct Dataset: Sendable {
    /// `[samples, …sample shape]`.
    public var inputs: Tensor
    public var targets: Targets
    /// What each class is called, when the data named them (a CSV's `setosa`,
    /// `versicolor`); class `k` is `classNames[k]`.
    public var classNames: [String]?

    public init(inputs: Tensor, targets: Targets) {
        precondition(targets.sampleCount.map { $0 == inputs.batch } ?? true,
                     "Dataset: \(inputs.batch) samples but \(targets.sampleCount ?? 0) targets")
        self.inputs = inputs
        self.targets = targets
    }

    /// Samples with class labels; `classes` defaults to one more than the largest label.
    public init(inputs: Tensor, labels: [Int], classes: Int? = nil) {
        self.init(inputs: inputs, targets: .classes(labels, count: classes ?? ((labels.max() ?? -1) + 1)))
    }

    /// Class `k`'s name: its given name, else its number.
    public func className(_ k: Int) -> String {
        guard let classNames, k >= 0, k < classNames.count else { return String(k) }
        return classNames[k]
    }

    public var count: Int { inputs.batch }

    /// The same samples as their own targets, for training an autoencoder
    /// (Keras's `fit(x, x)`); the labels or values are set aside, the
    /// inputs shared, not copied.
    public var reconstructing: Dataset { Dataset(inputs: inputs, targets: .inputs) }

    /// The memory its samples and targets take.
    public var bytes: Int {
        let targetBytes: Int
        switch targets {
        case .classes(let labels, _): targetBytes = labels.count * MemoryLayout<Int>.size
        case .values(let t): targetBytes = t.storage.count * 4
        case .inputs, .none: targetBytes = 0
        }
        return inputs.storage.count * 4 + targetBytes
    }
    public var sampleShape: [Int] { Array(inputs.shape.dropFirst()) }

    /// The class labels; empty unless the targets are classes.
    public var labels: [Int] {
        if case .classes(let labels, _) = targets { return labels }
        return []
    }

    /// How many classes; 0 unless the targets are classes.
    public var classes: Int {
        if case .classes(_, let count) = targets { return count }
        return 0
    }

    /// One target's shape, for real-valued targets.
    public var targetShape: [Int]? {
        if case .values(let t) = targets { return Array(t.shape.dropFirst()) }
        return nil
    }

    public func subset(_ indices: [Int]) -> Dataset {
        let targets: Targets
        switch self.targets {
        case .classes(let labels, let count): targets = .classes(indices.map { labels[$0] }, count: count)
        case .values(let t): targets = .values(t.gathering(samples: indices))
        case .inputs: targets = .inputs
        case .none: targets = .none
        }
        var subset = Dataset(inputs: inputs.gathering(samples: indices), targets: targets)
        subset.classNames = classNames
        return subset
    }

    /// A split seeded by `random`: stratified for classes (each class is
    /// shuffled and cut at `fraction`, so both parts keep the class balance),
    /// one shuffled cut otherwise.
    public func split(train fraction: Double, random: inout RandomGenerator) -> (train: Dataset, test: Dataset) {
        let (train, test) = splitIndices(train: fraction, random: &random)
        return (subset(train), subset(test))
    }

    /// The samples each part of `split(train:random:)` takes, in its order:
    /// anything kept beside the samples row by row (codes) splits the same way.
    public func splitIndices(train fraction: Double, random: inout RandomGenerator) -> (train: [Int], test: [Int]) {
        var groups: [[Int]]
        if case .classes(let labels, _) = targets {
            var byClass: [Int: [Int]] = [:]
            for (i, label) in labels.enumerated() { byClass[label, default: []].append(i) }
            groups = byClass.keys.sorted().map { byClass[$0]! }
        } else {
            groups = [Array(0..<count)]
        }
        var train: [Int] = [], test: [Int] = []
        for g in groups.indices {
            groups[g].shuffle(using: &random)
            let cut = Int((Double(groups[g].count) * fraction).rounded())
            train += groups[g][..<cut]
            test += groups[g][cut...]
        }
        train.shuffle(using: &random)
        test.shuffle(using: &random)
        return (train, test)
    }

    /// Samples per class (empty unless the targets are classes).
    public var classCounts: [Int] {
        var counts = [Int](repeating: 0, count: classes)
        for l in labels where l >= 0 && l < classes { counts[l] += 1 }
        return counts
    }
}
