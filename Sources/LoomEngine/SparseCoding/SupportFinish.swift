/// The lasso's exact minimiser for one sample, from a proximal gradient
/// iterate whose signs have settled: feature-sign steps (Lee, Battle, Raina
/// and Ng 2007) in double precision on the Gram matrix, then the KKT
/// conditions checked on every atom.
///
/// Proximal gradient finds the support long before its values converge
/// (the slow tail of single-precision FISTA, hundreds of iterations on
/// coherent dictionaries); on the right support and signs the lasso is one
/// small linear system, G_SS·z = c_S − α·s, solved from a Cholesky factor
/// kept up to date as atoms enter and leave (`SupportCholesky`, O(s²) a
/// step where refactoring was O(s³)). A step solves it; where a
/// value would change sign it moves only to the best point on the way and
/// drops the atom that reached zero; once the signs hold it adds the atom
/// that most violates |cⱼ − (Gz)ⱼ| ≤ α, if any. It stops at a point that
/// satisfies the KKT conditions (to `kktTolerance`) or gives up, leaving
/// the iterate as it was, after `maximumSteps` or on a singular block.
struct SupportFinish {
    /// An atom off the support counts as optimal while its correlation with
    /// the residual is at most α(1 + this): float rounding of the Gram and the
    /// correlations is near 1e-6 of them, and an atom let through at this
    /// margin lowers the objective by at most about (1e-4·α)²/2.
    static let kktTolerance = 1e-4
    /// Feature-sign steps an attempt may take before proximal gradient goes on.
    static let maximumSteps = 40
    /// The largest values an iterate with more nonzeros than `largestSupport`
    /// starts from: feature-sign steps reach the minimiser from any start,
    /// and from FISTA's sixth iterate (still nearly dense) its 8 largest
    /// values get there soonest on the digits and photograph patches
    /// (5, 12 and 16 measured slower).
    static let startingAtoms = 8

    let gram: UnsafePointer<Float>
    let atoms: Int
    let alpha: Double
    let positive: Bool
    /// The most atoms solved on: past the signals' length their Gram block is
    /// singular, and past half of it a settled iterate is still far off.
    let largestSupport: Int
    private var support: [Int] = [], signs: [Double] = [], values: [Double] = [], solution: [Double] = []
    private var correlation: [Double] = [], cross: [Double]
    private var inSupport: [Bool]
    /// G_SS's Cholesky factor, the support's atoms in its order, updated as they enter and leave.
    private let factor: SupportCholesky

    init(gram: UnsafePointer<Float>, atoms: Int, length: Int, alpha: Double, positive: Bool) {
        self.gram = gram
        self.atoms = atoms
        self.alpha = alpha
        self.positive = positive
        largestSupport = max(1, min(atoms, length) / 2)
        inSupport = [Bool](repeating: false, count: atoms)
        correlation = [Double](repeating: 0, count: atoms)
        cross = [Double](repeating: 0, count: largestSupport)
        factor = SupportCholesky(capacity: largestSupport)
    }

    /// Replaces `row`'s codes with the exact minimiser and returns its
    /// objective; nil, the codes untouched, when the steps do not get there.
    /// `c` is the sample's correlations with the atoms, `squaredNorm` its ‖x‖².
    mutating func finish(_ row: UnsafeMutablePointer<Float>, c: UnsafePointer<Float>, squaredNorm: Double) -> Double? {
        support.removeAll(keepingCapacity: true)
        signs.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
        for j in 0..<atoms where row[j] != 0 {
            support.append(j)
            values.append(Double(row[j]))
            signs.append(row[j] > 0 ? 1 : -1)
        }
        if support.count > largestSupport {
            keepLargest(min(Self.startingAtoms, largestSupport))
        }
        for j in support { inSupport[j] = true }
        defer { for j in support { inSupport[j] = false } }
        factor.removeAll()
        for atom in support where !factorAppend(atom) {
            return nil
        }
        for _ in 0..<Self.maximumSteps {
            if !support.isEmpty {
                solveOnSupport(c)
                if zip(solution, signs).contains(where: { $0 * $1 <= 0 }) {  // zip stops at the support's length
                    guard moveToBestCrossing(c) else { return nil }
                    continue
                }
                for i in values.indices { values[i] = solution[i] }
            }
            guard let entering = mostViolating(c) else { return write(row, c: c, squaredNorm: squaredNorm) }
            guard support.count < largestSupport, factorAppend(entering) else { return nil }
            support.append(entering)
            inSupport[entering] = true
            values.append(0)
            signs.append(correlation[entering] > 0 ? 1 : -1)
        }
        return nil
    }

    /// Keeps the `count` values of largest magnitude (in atom order), dropping the rest.
    private mutating func keepLargest(_ count: Int) {
        var top: [(magnitude: Double, index: Int)] = []
        top.reserveCapacity(count + 1)
        for i in values.indices {
            let m = abs(values[i])
            guard top.count < count || m > top[top.count - 1].magnitude else { continue }
            var p = top.count
            while p > 0 && top[p - 1].magnitude < m { p -= 1 }
            top.insert((m, i), at: p)
            if top.count > count { top.removeLast() }
        }
        let kept = top.map(\.index).sorted()
        support = kept.map { support[$0] }
        values = kept.map { values[$0] }
        signs = kept.map { signs[$0] }
    }

    /// solution = G_SS⁻¹(c_S − α·s) from the kept factor.
    private mutating func solveOnSupport(_ c: UnsafePointer<Float>) {
        let m = support.count
        if solution.count < m { solution = [Double](repeating: 0, count: max(m, largestSupport)) }
        for i in 0..<m { solution[i] = Double(c[support[i]]) - alpha * signs[i] }
        let factor = self.factor
        solution.withUnsafeMutableBufferPointer { factor.solve($0.baseAddress!) }
    }

    /// Adds `atom` to the factor (after those held, as in `support`); false when its Gram block turns singular.
    private mutating func factorAppend(_ atom: Int) -> Bool {
        let row = gram + atom * atoms, m = factor.size
        for p in 0..<m { cross[p] = Double(row[support[p]]) }
        let factor = self.factor
        return cross.withUnsafeBufferPointer { factor.append(cross: $0.baseAddress!, diagonal: Double(row[atom])) }
    }

    /// Feature-sign's line search from `values` to `solution`: the lowest
    /// objective among the solution and the points where a value crosses
    /// zero (the objective along the segment is a quadratic in t plus the
    /// L1 term, so each point costs one pass over the support); then drops
    /// the atoms at zero and takes the signs there. False when it makes no progress.
    private mutating func moveToBestCrossing(_ c: UnsafePointer<Float>) -> Bool {
        let m = support.count
        // f(t) − f(0) = t·slope + ½t²·curvature + α(‖z + tΔ‖₁ − ‖z‖₁), Δ = solution − values.
        var slope = 0.0, curvature = 0.0
        for i in 0..<m {
            let row = gram + support[i] * atoms
            var hz = 0.0
            for k in 0..<m { hz += Double(row[support[k]]) * values[k] }
            // G·solution = c − α·s on the support (the solve), so G·Δ needs no second product.
            let hd = Double(c[support[i]]) - alpha * signs[i] - hz
            let d = solution[i] - values[i]
            slope += d * (hz - Double(c[support[i]]))
            curvature += d * hd
        }
        func change(_ t: Double, zeroAt crossing: Int) -> Double {
            var l1 = 0.0
            for i in 0..<m where i != crossing { l1 += abs(values[i] + t * (solution[i] - values[i])) - abs(values[i]) }
            if crossing >= 0 { l1 -= abs(values[crossing]) }
            return t * slope + 0.5 * t * t * curvature + alpha * l1
        }
        var bestT = 0.0, best = 0.0, bestCrossing = -1
        for i in 0..<m where values[i] * solution[i] < 0 {
            let t = values[i] / (values[i] - solution[i])
            let value = change(t, zeroAt: i)
            if value < best { (bestT, best, bestCrossing) = (t, value, i) }
        }
        if change(1, zeroAt: -1) < best { (bestT, bestCrossing) = (1, -1) }
        guard bestT > 0 else { return false }
        var kept = 0
        for i in 0..<m {
            let v = i == bestCrossing ? 0 : values[i] + bestT * (solution[i] - values[i])
            if v == 0 {
                inSupport[support[i]] = false
                factor.remove(at: kept)
                continue
            }
            support[kept] = support[i]
            values[kept] = v
            signs[kept] = v > 0 ? 1 : -1
            kept += 1
        }
        support.removeLast(m - kept)
        values.removeLast(m - kept)
        signs.removeLast(m - kept)
        return true
    }

    /// The atom off the support whose correlation with the residual, cⱼ − (Gz)ⱼ
    /// (into `correlation`), passes α by more than the tolerance the most; nil when none does.
    private mutating func mostViolating(_ c: UnsafePointer<Float>) -> Int? {
        let atoms = atoms, gram = gram
        correlation.withUnsafeMutableBufferPointer { out in
            let r = out.baseAddress!
            for j in 0..<atoms { r[j] = Double(c[j]) }
            for (i, atom) in support.enumerated() {
                let g = gram + atom * atoms, z = values[i]
                for j in 0..<atoms { r[j] -= z * Double(g[j]) }
            }
        }
        var worst: Int?, largest = alpha * (1 + Self.kktTolerance)
        for j in 0..<atoms where !inSupport[j] {
            let violation = positive ? correlation[j] : abs(correlation[j])
            if violation > largest { (worst, largest) = (j, violation) }
        }
        return worst
    }

    /// Writes the values into `row` (zeros elsewhere) and returns the row's
    /// objective from them as stored, as `ProximalKernels.objective` takes it.
    private func write(_ row: UnsafeMutablePointer<Float>, c: UnsafePointer<Float>, squaredNorm: Double) -> Double {
        row.update(repeating: 0, count: atoms)
        var stored = values
        for i in values.indices {
            row[support[i]] = Float(values[i])
            stored[i] = Double(row[support[i]])
        }
        var ac = 0.0, aga = 0.0, l1 = 0.0
        for i in stored.indices {
            ac += stored[i] * Double(c[support[i]])
            l1 += abs(stored[i])
            for k in stored.indices { aga += stored[i] * Double(gram[support[i] * atoms + support[k]]) * stored[k] }
        }
        return 0.5 * max(0, squaredNorm - 2 * ac + aga) + alpha * l1
    }
}
