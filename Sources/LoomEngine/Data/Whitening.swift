import LoomCore

/// ZCA whitening, as Coates and Ng whiten image patches before learning
/// features: each value's mean over the samples is taken off, then the
/// samples are multiplied by P = V·diag(1/√(λ + ε))·Vᵀ, where V and λ are
/// the eigenvectors and eigenvalues of their covariance. The result has
/// (nearly) identity covariance and stays close to the data it came from,
/// so whitened patches still look like patches, their edges sharpened.
public enum Whitening {
    /// ε as a share of the mean eigenvalue: Coates and Ng's 0.1 for patches
    /// of unit variance, here independent of the values' scale.
    public static let defaultRegularisation = 0.1

    /// What whitening `samples` rows of `features` values allocates beside them.
    public static func bytes(samples: Int, features: Int) -> Int {
        MemoryAccount.sum(MemoryAccount.product(samples, features, 4), MemoryAccount.product(features, features, 8 * 4))
    }

    /// The rows of `x` (`samples`×`features`) whitened in place; an error
    /// when they cannot be: fewer than two samples, all of them the same, or
    /// an eigendecomposition that does not converge.
    public static func zca(_ x: inout [Float], samples n: Int, features d: Int,
                           regularisation: Double = defaultRegularisation) throws(DataError) {
        precondition(x.count == n * d, "Whitening.zca: \(x.count) values for \(n)x\(d)")
        guard n >= 2 else { throw DataError("whitening needs at least two samples") }
        var means = [Double](repeating: 0, count: d)
        for i in 0..<n { for j in 0..<d { means[j] += Double(x[i * d + j]) } }
        for j in 0..<d { means[j] /= Double(n) }
        x.withUnsafeMutableBufferPointer { values in
            for i in 0..<n { for j in 0..<d { values[i * d + j] -= Float(means[j]) } }
        }
        // The covariance, with NumPy's n − 1. Both products on one BLAS
        // thread, so the whitened values do not depend on `set threads`.
        let products = BLAS.singleThreaded { GEMM.product(x, x, m: d, n: d, k: n, transposeA: true) }
        let covariance = products.map { Double($0) / Double(n - 1) }
        guard let (values, vectors) = LAPACK.symmetricEigen(covariance, n: d) else {
            throw DataError("the covariance's eigendecomposition did not converge")
        }
        let mean = values.reduce(0) { $0 + max($1, 0) } / Double(d)
        guard mean > 0 else { throw DataError("the samples are all the same; there is nothing to whiten") }
        let epsilon = regularisation * mean
        let scales = values.map { $0 + epsilon > 0 ? 1 / ($0 + epsilon).squareRoot() : 0 }
        // P = Σ_k s_k · v_k v_kᵀ, symmetric.
        var p = [Double](repeating: 0, count: d * d)
        for k in 0..<d where scales[k] > 0 {
            let v = vectors[(k * d)..<((k + 1) * d)]
            for i in 0..<d {
                let a = scales[k] * v[v.startIndex + i]
                if a == 0 { continue }
                for j in 0..<d { p[i * d + j] += a * v[v.startIndex + j] }
            }
        }
        x = BLAS.singleThreaded { GEMM.product(x, p.map { Float($0) }, m: n, n: d, k: d) }
    }
}
