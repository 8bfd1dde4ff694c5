/// The optimizer's step for a weight that trains sparsely: the same update
/// rule on its pattern's weights alone (gathered, updated, scattered back),
/// with moments kept per pattern weight. Each weight gets the same numbers
/// as the masked dense step would give it; masked weights stay zero.
extension Optimizer {
    func stepSparsely(_ p: Parameter, _ pattern: SparsePattern, _ state: Moments, step t: Float) {
        let n = pattern.count
        guard n > 0 else { return p.markChanged() }
        // A step that kept the dense gradient (rewiring asked for it) may have changed the pattern since.
        let gradient = p.sparseGradient.count == n && !p.denseGradientRequested
            ? p.sparseGradient : p.gradient.storage.withUnsafeBufferPointer { all in pattern.positions.map { all[$0] } }
        var weights = p.value.storage.withUnsafeBufferPointer { all in pattern.positions.map { all[$0] } }
        let decayed = decays(p)
        weights.withUnsafeMutableBufferPointer { w in
            gradient.withUnsafeBufferPointer { g in
                state.first.withUnsafeMutableBufferPointer { m in
                    state.second.withUnsafeMutableBufferPointer { v in update(w, g, m, v, step: t, decays: decayed) }
                }
            }
        }
        p.value.storage.withUnsafeMutableBufferPointer { all in
            weights.withUnsafeBufferPointer { w in
                pattern.positions.withUnsafeBufferPointer { places in
                    for k in 0..<n { all[places[k]] = w[k] }
                }
            }
        }
        p.markChanged()
    }
}

extension Optimizer.Moments {
    /// Rearranges the moments for `pattern` (nil: one per weight): a weight
    /// in both layouts keeps its moments, one new to the pattern starts from
    /// zero (a regrown weight starts afresh), one that left it loses them.
    func conform(to pattern: SparsePattern?, weights count: Int) {
        guard pattern !== self.pattern else { return }
        let old = self.pattern?.positions
        func moved(_ values: [Float]) -> [Float] {
            // Each weight's moment by its flat place, then read at the new layout's places.
            var dense: [Float]
            if let old {
                dense = [Float](repeating: 0, count: count)
                for (k, place) in old.enumerated() { dense[place] = values[k] }
            } else {
                dense = values
            }
            return pattern.map { $0.positions.map { dense[$0] } } ?? dense
        }
        first = moved(first)
        second = moved(second)
        self.pattern = pattern
    }
}
