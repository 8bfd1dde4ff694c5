/// Weight masks: fixed sparse connectivity (`sparse P%` on `dense` and
/// `conv2d`) and magnitude pruning (`prune`). A weight `[fan-in, units]`
/// (a dense kernel, or a convolution's `[kh, kw, C, filters]` read as
/// `[kh·kw·C, filters]`) is masked through `Parameter.setMask`, so the zeros
/// hold through training.
public enum SparseWeights {
    /// A fixed random mask with `sparsity` of `weight`'s values zero and the
    /// same fan-in for every unit (Numenta's sparse weights): each unit keeps
    /// `round((1 − sparsity)·fanIn)` inputs, at least one. The kept weights
    /// are drawn again with Glorot's limit for that smaller fan-in.
    public static func fix(_ weight: Parameter, sparsity: Double, random: inout RandomGenerator) throws(ShapeError) {
        guard (0..<1).contains(sparsity) else { throw ShapeError("sparse takes a share from 0% to below 100%") }
        let units = weight.value.shape.last!, fanIn = weight.value.count / units
        let keep = max(1, Int(((1 - sparsity) * Double(fanIn)).rounded()))
        var mask = [Float](repeating: 0, count: weight.value.count)
        var rows = Array(0..<fanIn)
        for u in 0..<units {
            rows.shuffle(using: &random)
            for r in rows.prefix(keep) { mask[r * units + u] = 1 }
        }
        let fresh = Initializer.glorotUniform(shape: weight.value.shape, fanIn: keep, fanOut: units, random: &random)
        weight.value = fresh
        try weight.setMask(mask)
    }

    /// Magnitude pruning (Han et al. 2015): the `fraction` of smallest-magnitude
    /// weights of each parameter (or, with `global`, of all of them together)
    /// become masked zeros; weights already masked count among them, and
    /// equal magnitudes go to the lower index. Afterwards exactly that share
    /// is zero (per parameter, or over all of them).
    public static func prune(_ parameters: [Parameter], fraction: Double, global: Bool) {
        guard !parameters.isEmpty else { return }
        let groups = global ? [parameters] : parameters.map { [$0] }
        for group in groups {
            // Masked weights count as magnitude 0.
            let magnitudes = group.map { p in
                let mask = p.mask
                return (0..<p.value.count).map { mask?[$0] == 0 ? 0 : abs(p.value[$0]) }
            }
            let cut = Int((fraction * Double(magnitudes.reduce(0) { $0 + $1.count })).rounded())
            guard cut > 0 else { continue }
            // The cut-th smallest magnitude; below it every weight goes, at it the first ones in order.
            let threshold = magnitudes.flatMap { $0 }.sorted()[cut - 1]
            var below = magnitudes.reduce(0) { $0 + $1.reduce(0) { $0 + ($1 < threshold ? 1 : 0) } }
            for (parameter, values) in zip(group, magnitudes) {
                var mask = parameter.mask ?? [Float](repeating: 1, count: values.count)
                for i in 0..<values.count where values[i] < threshold || (values[i] == threshold && below < cut) {
                    if values[i] == threshold { below += 1 }
                    mask[i] = 0
                }
                try? parameter.setMask(mask)
            }
        }
    }

    /// N:M structured pruning (as `torch.ao.pruning.WeightNormSparsifier`
    /// with `sparse_block_shape (1, M)`): each unit's inputs (a weight's rows,
    /// a convolution's im2col rows `kh·kw·C` with the channels fastest) go in
    /// blocks of `block` consecutive rows, and each block keeps its `kept`
    /// largest magnitudes (a short last block too, at most `kept`); the rest
    /// become masked zeros. Masked weights stay masked, so a block ends with
    /// min(kept, its nonzeros) nonzeros; equal magnitudes go to the lower index.
    /// The weight records the pattern, so rewiring keeps it (see `BlockPattern`).
    public static func prune(_ parameters: [Parameter], keeping kept: Int, of block: Int) {
        guard let pattern = BlockPattern(kept: kept, block: block) else { return }
        for parameter in parameters {
            let units = parameter.value.shape.last!, fanIn = parameter.value.count / units
            var mask = parameter.mask ?? [Float](repeating: 1, count: parameter.value.count)
            // Masked weights count as magnitude 0.
            let magnitudes = zip(parameter.value.storage, mask).map { $1 == 0 ? 0 : abs($0) }
            var order: [Int] = []
            order.reserveCapacity(block)
            for u in 0..<units {
                for start in stride(from: 0, to: fanIn, by: block) {
                    order.removeAll(keepingCapacity: true)
                    for row in start..<min(start + block, fanIn) { order.append(row * units + u) }
                    order.sort { magnitudes[$0] > magnitudes[$1] || (magnitudes[$0] == magnitudes[$1] && $0 < $1) }
                    for i in order.dropFirst(kept) { mask[i] = 0 }
                }
            }
            try? parameter.setMask(mask, blockPattern: pattern)
        }
    }

    /// The weights that pruning and `sparse` act on: every trainable
    /// parameter of rank 2 or more (kernels and recurrent kernels; not
    /// biases), each once however many of the layers share it.
    public static func prunable(_ layers: [Layer]) -> [Parameter] {
        var seen: Set<ObjectIdentifier> = []
        return layers.flatMap(\.parameters).filter {
            $0.isKernel && seen.insert(ObjectIdentifier($0)).inserted
        }
    }
}
