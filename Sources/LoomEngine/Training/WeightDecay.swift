/// `l2 λ` on a layer, Keras's `kernel_regularizer=L2(λ)`: the batch's mean
/// loss gains λ·Σw² over the layer's kernel (not its bias), whose gradient
/// is 2λw. Added once a step, after the shards' gradients are summed, so a
/// kernel that several blocks use (`share`, `tied`) is decayed once and
/// the shards need not split the penalty between them. Masked weights are
/// zero, so they add nothing; the optimizer keeps them zero.
struct WeightDecay {
    let kernels: [(weight: Parameter, lambda: Float)]

    init(_ model: Sequential) { kernels = model.decayedKernels }

    /// Adds 2λw to each kernel's gradient, where this step wrote one (the
    /// dense gradient, the sparse one at its pattern's weights, or both),
    /// and returns the penalty Σ λ·Σw² at the weights before the update.
    func addGradients() -> Double {
        var penalty = 0.0
        for (p, lambda) in kernels {
            let twice = 2 * lambda
            p.value.storage.withUnsafeBufferPointer { w in
                penalty += Double(lambda) * WeightDecay.sumOfSquares(w)
                if let pattern = p.sparsePattern {
                    p.sparseGradient.withUnsafeMutableBufferPointer { g in
                        pattern.positions.withUnsafeBufferPointer { places in
                            for k in 0..<min(g.count, places.count) { g[k] += twice * w[places[k]] }
                        }
                    }
                    if !p.keepsDenseGradient { return }
                }
                p.gradient.storage.withUnsafeMutableBufferPointer { g in
                    for i in 0..<g.count { g[i] += twice * w[i] }
                }
            }
        }
        return penalty
    }

    /// Σw², eight lanes at a time in floats, each block of 1,024 values
    /// added into a double: a vector loop, where a double per value would
    /// cost as much as a small layer's step.
    static func sumOfSquares(_ w: UnsafeBufferPointer<Float>) -> Double {
        guard let base = w.baseAddress else { return 0 }
        var total = 0.0
        for start in stride(from: 0, to: w.count, by: 1024) {
            var lanes = Vector.Lanes()
            for i in stride(from: start, to: min(w.count, start + 1024), by: 8) {
                let v = Vector.load(base + i, lanes: min(8, w.count - i))
                lanes += v * v
            }
            total += Double(lanes.sum())
        }
        return total
    }
}
