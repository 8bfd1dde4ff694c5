import CBLAS

/// Cholesky factorisation and solves through OpenBLAS's LAPACK, for the
/// symmetric positive definite systems of sparse coding (OMP's Gram
/// submatrices, MOD's and least squares' normal equations).
///
/// A symmetric matrix reads the same row- or column-major, so the n×n
/// matrices here are plain row-major arrays. Every call runs on one thread
/// (`BLAS.singleThreaded`), so results do not depend on `set threads`.
public enum LAPACK {
    /// Replaces `a` (n×n, symmetric positive definite) by its Cholesky factor
    /// L, lower triangular with A = L·Lᵀ (the upper triangle is left as it
    /// was). False when A is not positive definite (the atoms are linearly
    /// dependent, say); `a` is then not a factor.
    public static func choleskyFactor(_ a: inout [Float], n: Int) -> Bool {
        precondition(a.count == n * n, "choleskyFactor: \(a.count) values for \(n)x\(n)")
        guard n > 0 else { return true }
        var info: Int32 = 0
        var size = Int32(n)
        // Row-major lower is column-major upper.
        BLAS.singleThreaded { a.withUnsafeMutableBufferPointer { spotrf_("U", &size, $0.baseAddress!, &size, &info, 1) } }
        return info == 0
    }

    /// Solves A·x = b for each right-hand side in `b` (each n contiguous
    /// values, `count` of them, overwritten by x), given A's factor from
    /// `choleskyFactor`.
    public static func choleskySolve(factor: [Float], n: Int, _ b: inout [Float], count: Int) {
        precondition(factor.count == n * n && b.count == n * count, "choleskySolve: shapes do not match")
        guard n > 0, count > 0 else { return }
        var info: Int32 = 0
        var size = Int32(n), columns = Int32(count)
        factor.withUnsafeBufferPointer { f in
            BLAS.singleThreaded {
                b.withUnsafeMutableBufferPointer { spotrs_("U", &size, &columns, f.baseAddress!, &size, $0.baseAddress!, &size, &info, 1) }
            }
        }
        precondition(info == 0, "choleskySolve: argument \(-info) was invalid")
    }

    /// The orthonormal factor Q of a QR factorisation of `a` (m×n with m ≥ n,
    /// stored column by column: column j is `a[j·m ..< (j+1)·m]`), each
    /// column's sign chosen so that R's diagonal is positive (the factor is
    /// then unique). Returns Q in the same layout.
    public static func orthonormalColumns(_ a: [Float], rows m: Int, columns n: Int) -> [Float] {
        precondition(a.count == m * n && m >= n && n > 0, "orthonormalColumns: needs m ≥ n > 0")
        var q = a
        var tau = [Float](repeating: 0, count: n)
        var (rows, columns, info) = (Int32(m), Int32(n), Int32(0))
        var size: Float = 0, query: Int32 = -1
        // Ask for the work size, then factor.
        q.withUnsafeMutableBufferPointer { sgeqrf_(&rows, &columns, $0.baseAddress!, &rows, &tau, &size, &query, &info) }
        var work = [Float](repeating: 0, count: max(1, Int(size)))
        var length = Int32(work.count)
        BLAS.singleThreaded {
            q.withUnsafeMutableBufferPointer { sgeqrf_(&rows, &columns, $0.baseAddress!, &rows, &tau, &work, &length, &info) }
        }
        precondition(info == 0, "sgeqrf: argument \(-info) was invalid")
        let signs = (0..<n).map { q[$0 * m + $0] < 0 ? Float(-1) : 1 }
        BLAS.singleThreaded {
            q.withUnsafeMutableBufferPointer { sorgqr_(&rows, &columns, &columns, $0.baseAddress!, &rows, tau, &work, &length, &info) }
        }
        precondition(info == 0, "sorgqr: argument \(-info) was invalid")
        for j in 0..<n where signs[j] < 0 { for i in 0..<m { q[j * m + i] = -q[j * m + i] } }
        return q
    }

    /// The eigenvalues (ascending) and eigenvectors of a symmetric n×n
    /// matrix, in double precision: vector k is row k of `vectors`. Nil when
    /// LAPACK's iteration does not converge.
    public static func symmetricEigen(_ a: [Double], n: Int) -> (values: [Double], vectors: [Double])? {
        precondition(a.count == n * n && n > 0, "symmetricEigen: \(a.count) values for \(n)x\(n)")
        var vectors = a
        var values = [Double](repeating: 0, count: n)
        var (size, info, query) = (Int32(n), Int32(0), Int32(-1))
        var workSize: Double = 0
        // Column-major output: eigenvector k is column k, so row k as row-major.
        vectors.withUnsafeMutableBufferPointer { dsyev_("V", "U", &size, $0.baseAddress!, &size, &values, &workSize, &query, &info, 1, 1) }
        var work = [Double](repeating: 0, count: max(1, Int(workSize)))
        var length = Int32(work.count)
        BLAS.singleThreaded {
            vectors.withUnsafeMutableBufferPointer { dsyev_("V", "U", &size, $0.baseAddress!, &size, &values, &work, &length, &info, 1, 1) }
        }
        return info == 0 ? (values, vectors) : nil
    }
}
