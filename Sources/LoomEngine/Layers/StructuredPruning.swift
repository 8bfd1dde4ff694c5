/// Structured pruning (`torch.nn.utils.prune.ln_structured` with n = 2 over
/// output units): whole dense units or conv2d filters, ranked by the L2
/// norm of their incoming weights, become masked zeros — their weights,
/// their bias and, when a batchnorm follows, its γ and β there — so the
/// unit's output is exactly zero and `Compaction` can remove it.
extension SparseWeights {
    /// Masks the `fraction` of `block`'s units (dense) or filters (conv2d)
    /// with the smallest L2 norms (pruned ones count as 0; equal norms go to
    /// the lower index), and the next batchnorm's γ and β at the same units
    /// when only activations or dropout stand between. Afterwards exactly
    /// round(fraction × units) units are zero.
    public static func pruneUnits(of block: Block, in model: Sequential, fraction: Double) {
        guard let (weight, bias) = unitParameters(block.main) else { return }
        let units = weight.value.shape.last!
        var norms = [Double](repeating: 0, count: units)
        weight.value.storage.withUnsafeBufferPointer { w in
            for i in 0..<w.count { norms[i % units] += Double(w[i]) * Double(w[i]) }
        }
        let cut = Int((fraction * Double(units)).rounded())
        guard cut > 0 else { return }
        let order = (0..<units).sorted { norms[$0] < norms[$1] || (norms[$0] == norms[$1] && $0 < $1) }
        var pruned = [Bool](repeating: false, count: units)
        for u in order.prefix(cut) { pruned[u] = true }
        var weightMask = weight.mask ?? [Float](repeating: 1, count: weight.value.count)
        for i in 0..<weightMask.count where pruned[i % units] { weightMask[i] = 0 }
        try? weight.setMask(weightMask)
        var perUnit = [bias]
        if let norm = followingBatchNorm(of: block, in: model) { perUnit += norm.parameters.filter(\.trainable) }
        for p in perUnit where p.value.count == units {
            var mask = p.mask ?? [Float](repeating: 1, count: units)
            for u in 0..<units where pruned[u] { mask[u] = 0 }
            try? p.setMask(mask)
        }
    }

    /// A dense layer's or a convolution's kernel and bias; nil for other layers and for a kernel used transposed.
    public static func unitParameters(_ layer: Layer) -> (weight: Parameter, bias: Parameter)? {
        switch layer {
        case let dense as Dense: return dense.transposesKernel ? nil : (dense.weight, dense.bias)
        case let conv as Conv2D: return (conv.weight, conv.bias)
        default: return nil
        }
    }

    /// The batchnorm that normalises `block`'s outputs: in the next block,
    /// past blocks that only apply an activation or dropout.
    static func followingBatchNorm(of block: Block, in model: Sequential) -> BatchNorm? {
        guard let index = model.blocks.firstIndex(where: { $0.name == block.name }) else { return nil }
        for next in model.blocks.dropFirst(index + 1) {
            if let norm = next.main as? BatchNorm { return norm }
            guard next.layers.allSatisfy({ $0 is Activation || $0 is Dropout }) else { return nil }
        }
        return nil
    }
}
