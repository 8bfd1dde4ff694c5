/// Weight clustering (Han et al. 2016, Deep Compression; `tfmot`'s
/// `cluster_weights`): a weight's values become a few shared values, a
/// codebook of centroids and, per weight, the index of its centroid.
///
/// A parameter keeps its clusters beside its mask (`Parameter.clusters`):
/// masked weights stay zero and belong to no cluster; every other weight is
/// its centroid's value. Training steps the centroids, each by the sum of its
/// members' gradients (`Optimizer.step`), so the weight never holds more
/// distinct values than there are centroids.
public final class WeightClusters {
    /// The shared values, ascending after clustering; training moves them
    /// (whoever writes them calls `Parameter.applyMask` to pass them on).
    public var centroids: [Float]
    /// Per weight, its centroid; read only where the mask keeps the weight.
    public let assignment: [UInt32]

    /// Throws when an assignment names no centroid.
    public init(centroids: [Float], assignment: [UInt32]) throws(ShapeError) {
        guard !centroids.isEmpty else { throw ShapeError("a codebook needs at least one value") }
        if let bad = assignment.firstIndex(where: { Int($0) >= centroids.count }) {
            throw ShapeError("weight \(bad) names centroid \(assignment[bad]), but there are \(centroids.count)")
        }
        self.centroids = centroids
        self.assignment = assignment
    }

    /// Bits an index into the codebook takes (at least 1).
    public var bitsPerIndex: Int { Swift.max(1, Int.bitWidth - (centroids.count - 1).leadingZeroBitCount) }

    /// Each centroid's gradient: the sum of its members' (kept) gradients in
    /// `p`, the parameter these clusters belong to, in weight order.
    public func centroidGradient(of p: Parameter) -> [Float] {
        var sums = [Float](repeating: 0, count: centroids.count)
        let mask = p.mask
        p.gradient.storage.withUnsafeBufferPointer { g in
            for i in 0..<g.count where mask?[i] != 0 { sums[Int(assignment[i])] += g[i] }
        }
        return sums
    }

    /// Takes each centroid back from `p`'s weights (the value of its first
    /// kept member), after the weights were set as a whole: a restored best
    /// epoch's weights bring their centroids with them.
    public func adoptCentroids(of p: Parameter) {
        let mask = p.mask
        var seen = [Bool](repeating: false, count: centroids.count)
        for i in 0..<p.value.count where mask?[i] != 0 && !seen[Int(assignment[i])] {
            seen[Int(assignment[i])] = true
            centroids[Int(assignment[i])] = p.value[i]
        }
    }

    /// Writes each kept weight's centroid into `values`; masked ones become 0.
    func write(into values: UnsafeMutableBufferPointer<Float>, mask: [Float]?) {
        for i in 0..<values.count { values[i] = mask?[i] == 0 ? 0 : centroids[Int(assignment[i])] }
    }

    /// One-dimensional k-means over the weights the mask keeps: `count`
    /// centroids spaced linearly from the smallest to the largest value (Han
    /// et al.'s linear initialisation), then Lloyd's rounds until no weight
    /// changes cluster (at most 300, as scikit-learn). A value halfway between
    /// two centroids joins the lower; an empty cluster keeps its centroid.
    /// Throws when nothing is kept or `count` is not positive.
    public static func kMeans(_ values: [Float], mask: [Float]?, count: Int) throws(ShapeError) -> WeightClusters {
        guard count >= 1 else { throw ShapeError("clustering needs at least one value, not \(count)") }
        let kept = (0..<values.count).filter { mask?[$0] != 0 }
        guard !kept.isEmpty else { throw ShapeError("every weight is masked: nothing to cluster") }
        guard kept.allSatisfy({ values[$0].isFinite }) else { throw ShapeError("weights that are not finite cannot be clustered") }
        // Sorted once: each cluster is then a contiguous run, found by binary search.
        let order = kept.sorted { (values[$0], $0) < (values[$1], $1) }
        let sorted = order.map { Double(values[$0]) }
        var prefix = [Double](repeating: 0, count: sorted.count + 1)
        for (i, v) in sorted.enumerated() { prefix[i + 1] = prefix[i] + v }
        let (low, high) = (sorted.first!, sorted.last!)
        var centroids = (0..<count).map { count == 1 ? low : low + (high - low) * Double($0) / Double(count - 1) }
        var ends: [Int] = []
        for _ in 0..<300 {
            // Run j ends at the first value above the midpoint to the next centroid.
            let newEnds = (0..<count).map { j in
                j == count - 1 ? sorted.count : firstIndex(in: sorted, above: (centroids[j] + centroids[j + 1]) / 2)
            }
            if newEnds == ends { break }
            ends = newEnds
            var start = 0
            for j in 0..<count {
                if ends[j] > start { centroids[j] = (prefix[ends[j]] - prefix[start]) / Double(ends[j] - start) }
                start = Swift.max(start, ends[j])
            }
        }
        var assignment = [UInt32](repeating: 0, count: values.count)
        var start = 0
        for j in 0..<count {
            for position in start..<Swift.max(start, ends[j]) { assignment[order[position]] = UInt32(j) }
            start = Swift.max(start, ends[j])
        }
        return try WeightClusters(centroids: centroids.map { Float($0) }, assignment: assignment)
    }

    /// Clusters each of `parameters` to `count` shared values (see `kMeans`).
    /// Throws, naming none set, when one cannot be: every parameter is
    /// checked before any changes.
    public static func cluster(_ parameters: [Parameter], count: Int) throws(ShapeError) {
        var made: [WeightClusters] = []
        for p in parameters {
            do { made.append(try kMeans(p.value.storage, mask: p.mask, count: count)) } catch {
                throw ShapeError("\(p.name): \(error.message)")
            }
        }
        for (p, clusters) in zip(parameters, made) { try p.setClusters(clusters) }
    }

    /// The first index whose value is above `bound` in ascending `sorted`.
    private static func firstIndex(in sorted: [Double], above bound: Double) -> Int {
        var (lo, hi) = (0, sorted.count)
        while lo < hi {
            let mid = (lo + hi) / 2
            if sorted[mid] <= bound { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}
