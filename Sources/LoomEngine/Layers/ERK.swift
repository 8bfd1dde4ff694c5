/// A layer spec with fixed sparse connectivity: `sparse P%`, and with `erk`
/// its share of one sparsity spread over the model's `erk` layers.
public protocol SparselyConnected {
    /// The share of weights fixed at zero, nil for none.
    var sparsity: Double? { get }
    /// Whether `sparsity` is the model's overall one, spread by `SparseWeights.erkDensities`.
    var erk: Bool { get }
}

extension DenseSpec: SparselyConnected {}
extension Conv2DSpec: SparselyConnected {}

extension SparseWeights {
    static let erkNeedsSparsity = "`erk` spreads a sparsity by layer shape: give it with `sparse P%`"

    /// Erdős–Rényi-Kernel densities (Evci et al. 2020, as RigL's code
    /// computes them): layer l keeps ε·Σshape/Πshape of its weights, ε chosen
    /// so all together keep (1 − `sparsity`) of them; a layer that would keep
    /// more than all is dense and ε is found again for the others. Small
    /// layers end denser than large ones.
    public static func erkDensities(shapes: [[Int]], sparsity: Double) -> [Double] {
        let sizes = shapes.map { Double($0.reduce(1, *)) }
        let raw = shapes.map { Double($0.reduce(0, +)) / Double(max(1, $0.reduce(1, *))) }
        var dense = Set<Int>()
        while true {
            var budget = 0.0, divisor = 0.0
            for l in shapes.indices {
                if dense.contains(l) {
                    budget -= sizes[l] * sparsity
                } else {
                    budget += sizes[l] * (1 - sparsity)
                    divisor += raw[l] * sizes[l]
                }
            }
            let open = shapes.indices.filter { !dense.contains($0) }
            guard divisor > 0, let largest = open.map({ raw[$0] }).max() else { return shapes.map { _ in 1 } }
            let epsilon = budget / divisor
            if largest * epsilon > 1 {
                for l in open where raw[l] == largest { dense.insert(l) }
                continue
            }
            return shapes.indices.map { dense.contains($0) ? 1 : epsilon * raw[$0] }
        }
    }
}

extension Sequential {
    /// Fixes the masks of the blocks written `sparse P% erk` with their ERK
    /// densities (all of them must give the same P); call once every layer
    /// is built. Does nothing for a model without `erk`.
    public func spreadSparsityByERK() throws(ShapeError) {
        let chosen = blocks.filter { ($0.spec as? SparselyConnected)?.erk == true && $0.sharedFrom == nil }
        guard let first = chosen.first, let share = (first.spec as? SparselyConnected)?.sparsity else { return }
        if let other = chosen.first(where: { ($0.spec as? SparselyConnected)?.sparsity != share }) {
            throw ShapeError("`erk` spreads one sparsity over its layers: \(first.name) and \(other.name) give different "
                             + "`sparse` shares")
        }
        let weights = chosen.compactMap { SparseWeights.prunable($0.layers).first }
        let densities = SparseWeights.erkDensities(shapes: weights.map(\.value.shape), sparsity: share)
        for (weight, density) in zip(weights, densities) {
            try SparseWeights.fix(weight, sparsity: min(max(0, 1 - density), 0.999_999), random: &random)
        }
    }
}
