/// The lasso, min ½‖x − αᵀD‖² + λ‖α‖₁, per signal by cyclic coordinate
/// descent on the Gram matrix: with q = Gα kept up to date, each coordinate's
/// minimiser is a soft threshold of cₖ − qₖ + Gₖₖαₖ. A sweep ends the search
/// when its largest step is small and the duality gap is below
/// `tolerance`·‖x‖² (scikit-learn's rule, so the numbers compare).
enum LassoCD {
    static let maximumSweeps = 1000

    static func encode(_ p: CodingProblem, alpha: Double, positive: Bool, tolerance: Double,
                       warmStart: SparseCodes?, shouldStop: () -> Bool) -> SparseCodes? {
        let atoms = p.atoms, samples = p.samples
        if let warmStart { precondition(warmStart.samples == samples && warmStart.atoms == atoms, "lasso: warm start of another shape") }
        var codes = warmStart?.values ?? [Float](repeating: 0, count: samples * atoms)
        let finished = codes.withUnsafeMutableBufferPointer { out in
            p.gram.withUnsafeBufferPointer { g in
                p.correlations.withUnsafeBufferPointer { c in
                    p.forEachChunk(shouldStop: shouldStop) { range in
                        var a = [Double](repeating: 0, count: atoms), q = [Double](repeating: 0, count: atoms)
                        for i in range {
                            let row = out.baseAddress! + i * atoms
                            for k in 0..<atoms { a[k] = Double(row[k]) }
                            solve(c.baseAddress! + i * atoms, norm: p.squaredNorms[i], gram: g.baseAddress!, atoms: atoms,
                                  alpha: alpha, positive: positive, tolerance: tolerance, a: &a, q: &q)
                            for k in 0..<atoms { row[k] = Float(a[k]) }
                        }
                    }
                }
            }
        }
        return finished ? SparseCodes(values: codes, samples: samples, atoms: atoms) : nil
    }

    /// Solves one signal, starting from `a` (its warm start or zeros).
    static func solve(_ c: UnsafePointer<Float>, norm: Double, gram g: UnsafePointer<Float>, atoms: Int,
                      alpha: Double, positive: Bool, tolerance: Double, a: inout [Double], q: inout [Double]) {
        // q = G·a
        for k in 0..<atoms { q[k] = 0 }
        for j in 0..<atoms where a[j] != 0 {
            let row = g + j * atoms
            for k in 0..<atoms { q[k] += a[j] * Double(row[k]) }
        }
        let stepTolerance = tolerance
        for sweep in 0..<maximumSweeps {
            var largestStep = 0.0, largest = 0.0
            for j in 0..<atoms {
                let gjj = Double(g[j * atoms + j])
                guard gjj > 0 else { continue }
                let old = a[j]
                let r = Double(c[j]) - q[j] + gjj * old
                let new: Double = positive ? max(r - alpha, 0) / gjj
                    : (r > alpha ? (r - alpha) / gjj : (r < -alpha ? (r + alpha) / gjj : 0))
                if new != old {
                    let step = new - old
                    let row = g + j * atoms
                    for k in 0..<atoms { q[k] += step * Double(row[k]) }
                    a[j] = new
                    largestStep = max(largestStep, abs(step))
                }
                largest = max(largest, abs(new))
            }
            if largest == 0 || largestStep / largest < stepTolerance || sweep == maximumSweeps - 1 {
                if dualityGap(c, norm: norm, atoms: atoms, alpha: alpha, positive: positive, a: a, q: q) <= tolerance * norm { return }
            }
        }
    }

    /// P(a) − D(ν) for the dual point ν = s·r, r = x − Dᵀa scaled so that
    /// ‖Dν‖∞ ≤ λ; every term comes from c, q = Ga and ‖x‖².
    static func dualityGap(_ c: UnsafePointer<Float>, norm: Double, atoms: Int, alpha: Double, positive: Bool,
                           a: [Double], q: [Double]) -> Double {
        var ac = 0.0, aq = 0.0, l1 = 0.0, worst = 0.0
        for k in 0..<atoms {
            ac += a[k] * Double(c[k])
            aq += a[k] * q[k]
            l1 += abs(a[k])
            let correlation = Double(c[k]) - q[k]   // (D·r)ₖ
            worst = max(worst, positive ? correlation : abs(correlation))
        }
        let rr = max(0, norm - 2 * ac + aq), xr = norm - ac
        let s = worst > alpha ? alpha / worst : 1
        return 0.5 * rr + alpha * l1 - s * xr + 0.5 * s * s * rr
    }
}
