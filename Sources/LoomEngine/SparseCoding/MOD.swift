extension DictionaryLearning.State {
    /// One MOD iteration (method of optimal directions): OMP codes, then all
    /// used atoms at once by least squares, (ΓᵀΓ)·D = ΓᵀX through a Cholesky
    /// factor, each atom then scaled to unit norm and its coefficients by the
    /// inverse, so the product ΓD — and the cost — is the least-squares one.
    mutating func mod(sparsity: Int, shouldStop: () -> Bool) -> Bool {
        guard codeNeverWorse(sparsity: sparsity, shouldStop: shouldStop) else { return false }
        let k = dictionary.count, n = dictionary.length, samples = codes.samples
        let usage = codes.usage
        let used = usage.indices.filter { usage[$0] > 0 }
        let u = used.count
        guard u > 0 else { finishIteration(); return true }
        // Γ restricted to the used atoms, N × u.
        var gamma = [Float](repeating: 0, count: samples * u)
        for i in 0..<samples { for (col, j) in used.enumerated() { gamma[i * u + col] = codes.values[i * k + j] } }
        var normal = GEMM.product(gamma, gamma, m: u, n: u, k: samples, transposeA: true)
        // Each right-hand side is one of the n columns of ΓᵀX: the rows of XᵀΓ.
        var rhs = GEMM.product(signals.storage, gamma, m: n, n: u, k: samples, transposeA: true)
        var factor = normal
        if !LAPACK.choleskyFactor(&factor, n: u) {
            // Nearly dependent codes: a small ridge makes the system solvable.
            let ridge = (0..<u).reduce(Float(0)) { $0 + normal[$1 * u + $1] } / Float(u) * 1e-6
            for t in 0..<u { normal[t * u + t] += ridge }
            factor = normal
            guard LAPACK.choleskyFactor(&factor, n: u) else { finishIteration(); return true }
        }
        LAPACK.choleskySolve(factor: factor, n: u, &rhs, count: n)
        for (col, j) in used.enumerated() {
            var norm: Float = 0
            for t in 0..<n { norm += rhs[t * u + col] * rhs[t * u + col] }
            norm = norm.squareRoot()
            guard norm > 0, norm.isFinite else { continue }
            for t in 0..<n { dictionary.atoms[j * n + t] = rhs[t * u + col] / norm }
            for i in 0..<samples where codes.values[i * k + j] != 0 { codes.values[i * k + j] *= norm }
        }
        finishIteration()
        return true
    }
}
