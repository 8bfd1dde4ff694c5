extension Dataset {
    /// The first `n` samples, stratified: each class gets a share as even as
    /// its count in the data allows (a class with fewer samples gives its
    /// whole count and the rest is shared among the others), taken in file
    /// order, so the same files and `n` always give the same samples. Data
    /// without class labels gives its first `n` samples.
    public func firstStratified(_ n: Int) -> Dataset {
        guard n < count else { return self }
        let labels = self.labels
        guard !labels.isEmpty else { return subset(Array(0..<max(0, n))) }
        var quota = Dataset.evenQuotas(classCounts, total: n)
        var indices: [Int] = []
        indices.reserveCapacity(n)
        for (i, label) in labels.enumerated() where quota[label] > 0 {
            quota[label] -= 1
            indices.append(i)
        }
        return subset(indices)
    }

    /// How many of each class to take for `total` in all: every class the
    /// same number where its count allows (water-filling), the one-by-one
    /// remainder to the lowest class numbers that still have samples.
    public static func evenQuotas(_ counts: [Int], total: Int) -> [Int] {
        var quota = [Int](repeating: 0, count: counts.count)
        var left = min(max(0, total), counts.reduce(0, +))
        while left > 0 {
            let open = counts.indices.filter { quota[$0] < counts[$0] }
            let share = left / open.count
            if share == 0 {
                for k in open.prefix(left) { quota[k] += 1 }
                break
            }
            for k in open {
                let added = min(share, counts[k] - quota[k])
                quota[k] += added
                left -= added
            }
        }
        return quota
    }
}
