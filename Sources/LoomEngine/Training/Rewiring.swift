#if canImport(Glibc)
import Glibc
#endif

/// Dynamic sparse training (`train … rewire`): every `every` steps each
/// masked weight drops the `fraction` of its active connections with the
/// smallest magnitudes and regrows as many among those inactive before the
/// rewiring, so its number of nonzeros never changes while its mask moves.
/// Regrown weights start at zero, with fresh optimizer moments.
public struct Rewiring: Sendable, Equatable {
    public enum Method: String, Sendable, CaseIterable {
        /// Sparse Evolutionary Training (Mocanu et al. 2018): regrow at random.
        case set
        /// Rigged Lottery (Evci et al. 2020): regrow where the dense
        /// gradient is largest; the fraction decays to 0 along a cosine.
        case rigl
    }

    public var method: Method
    /// Steps between rewirings.
    public var every: Int
    /// The share of each weight's active connections moved at a rewiring (RigL's at the start).
    public var fraction: Double

    /// Both papers' defaults: ΔT = 100 steps, ζ = α = 0.3.
    public static let defaultEvery = 100
    public static let defaultFraction = 0.3

    public init(_ method: Method, every: Int = Rewiring.defaultEvery, fraction: Double = Rewiring.defaultFraction) {
        self.method = method
        self.every = every
        self.fraction = fraction
    }

    /// Whether step `t` (from 1) of a fit of `total` steps rewires.
    public func rewires(atStep t: Int, of total: Int) -> Bool { every > 0 && t % every == 0 && t < total }

    /// The share moved at step `t` of `total`: SET's constant one, RigL's
    /// f/2·(1 + cos(π·t/total)).
    public func fraction(atStep t: Int, of total: Int) -> Double {
        switch method {
        case .set: return fraction
        case .rigl: return fraction / 2 * (1 + cos(Double.pi * Double(t) / Double(max(1, total))))
        }
    }

    /// Moves `weight`'s mask: drops the `share` of its active weights with
    /// the smallest magnitudes and grows as many among the inactive ones —
    /// at random (SET) or where `weight.gradient` (the dense gradient) is
    /// largest in magnitude (RigL); equal values go to the lower index.
    /// A weight that keeps an N:M pattern moves within its blocks (see
    /// `rewire(_:within:…)`). Returns how many mask entries changed (twice
    /// the weights moved).
    public func rewire(_ weight: Parameter, share: Double, random: inout RandomGenerator) -> Int {
        guard let mask = weight.mask else { return 0 }
        if let pattern = weight.blockPattern { return rewire(weight, mask: mask, within: pattern, share: share, random: &random) }
        var active: [Int] = [], inactive: [Int] = []
        for i in mask.indices {
            if mask[i] != 0 { active.append(i) } else { inactive.append(i) }
        }
        let moved = min(Int((share * Double(active.count)).rounded()), inactive.count)
        guard moved > 0 else { return 0 }
        let dropped = weight.value.storage.withUnsafeBufferPointer { w in
            Selection.smallest(moved, of: active) { abs(w[$0]) }
        }
        let grown: [Int]
        switch method {
        case .set:
            for i in 0..<moved { inactive.swapAt(i, Int.random(in: i..<inactive.count, using: &random)) }
            grown = Array(inactive.prefix(moved))
        case .rigl:
            grown = weight.gradient.storage.withUnsafeBufferPointer { g in
                Selection.smallest(moved, of: inactive) { -abs(g[$0]) }
            }
        }
        var next = mask
        for i in dropped { next[i] = 0 }
        for i in grown { next[i] = 1 }
        try? weight.setMask(next)
        return 2 * moved
    }

    /// N:M rewiring, so the pattern holds: the `share` of active weights
    /// with the smallest magnitudes are picked as for any mask, then each
    /// block drops at most as many of them (its smallest) as it has places
    /// empty, and grows as many among those (at random, or by the dense
    /// gradient): every block keeps its number of nonzeros.
    private func rewire(_ weight: Parameter, mask: [Float], within pattern: BlockPattern, share: Double,
                        random: inout RandomGenerator) -> Int {
        let units = weight.value.shape.last!
        var active: [Int] = [], inactive: [Int: [Int]] = [:]
        for i in mask.indices {
            if mask[i] != 0 { active.append(i) } else { inactive[pattern.blockIndex(of: i, units: units), default: []].append(i) }
        }
        let picked = weight.value.storage.withUnsafeBufferPointer { w in
            Selection.smallest(Int((share * Double(active.count)).rounded()), of: active) { abs(w[$0]) }
        }
        let pickedByBlock = Dictionary(grouping: picked) { pattern.blockIndex(of: $0, units: units) }
        var next = mask, moved = 0
        for block in pickedByBlock.keys.sorted() {
            var empty = inactive[block] ?? []
            let dropped = weight.value.storage.withUnsafeBufferPointer { w in
                Selection.smallest(min(pickedByBlock[block]!.count, empty.count), of: pickedByBlock[block]!) { abs(w[$0]) }
            }
            let grown: [Int]
            switch method {
            case .set:
                for i in 0..<dropped.count { empty.swapAt(i, Int.random(in: i..<empty.count, using: &random)) }
                grown = Array(empty.prefix(dropped.count))
            case .rigl:
                grown = weight.gradient.storage.withUnsafeBufferPointer { g in
                    Selection.smallest(dropped.count, of: empty) { -abs(g[$0]) }
                }
            }
            for i in dropped { next[i] = 0 }
            for i in grown { next[i] = 1 }
            moved += dropped.count
        }
        guard moved > 0 else { return 0 }
        try? weight.setMask(next, blockPattern: pattern)
        return 2 * moved
    }
}

/// A fit's rewiring: which weights, when, and how many mask entries moved.
struct RewiringRun {
    let rule: Rewiring
    let weights: [Parameter]
    /// The fit's steps.
    let total: Int

    /// Before step `t` runs: a step that rewires asks its weights for the
    /// dense gradient (RigL grows by it; the optimizer steps the new mask by it).
    func prepare(step t: Int) {
        let rewires = rule.rewires(atStep: t, of: total)
        for w in weights { w.denseGradientRequested = rewires }
    }

    /// After step `t`'s backward, before its update: rewires when due;
    /// returns the mask entries changed.
    func rewire(step t: Int, random: inout RandomGenerator) -> Int {
        guard rule.rewires(atStep: t, of: total) else { return 0 }
        let share = rule.fraction(atStep: t, of: total)
        return weights.reduce(0) { $0 + rule.rewire($1, share: share, random: &random) }
    }

    /// The fit's end: no weight asks for the dense gradient any more.
    func end() { for w in weights { w.denseGradientRequested = false } }
}

/// The k smallest by a key, in linear time on average.
enum Selection {
    /// The `k` of `items` with the smallest `key` (equal keys: the earlier
    /// item first), in the order of `items`.
    static func smallest(_ k: Int, of items: [Int], key: (Int) -> Float) -> [Int] {
        guard k < items.count else { return items }
        guard k > 0 else { return [] }
        let keys = items.map(key)
        let cut = kthSmallest(keys, k)
        var below = keys.reduce(0) { $0 + ($1 < cut ? 1 : 0) }
        var chosen: [Int] = []
        chosen.reserveCapacity(k)
        for (item, value) in zip(items, keys) where value < cut || (value == cut && below < k) {
            if value == cut { below += 1 }
            chosen.append(item)
        }
        return chosen
    }

    /// The k-th smallest value (k from 1), by quickselect.
    static func kthSmallest(_ values: [Float], _ k: Int) -> Float {
        var v = values, (low, high, target) = (0, values.count - 1, k - 1)
        while low < high {
            let pivot = v[low + (high - low) / 2]
            var (i, j) = (low, high)
            while i <= j {
                while v[i] < pivot { i += 1 }
                while v[j] > pivot { j -= 1 }
                if i <= j {
                    v.swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            if target <= j { high = j } else if target >= i { low = i } else { return v[target] }
        }
        return v[target]
    }
}
