import CBLAS

/// Cholesky factorisation and solves through OpenBLAS's LAPACK, for the
/// symmetric positive definite systems of sparse coding (OMP's Gram
/// submatrices, MOD's and least squares' normal equations).
///
/// A symmetric matrix reads the same row- or column-major, so the n×n
/// matrices here are plain row-major arrays.
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
        a.withUnsafeMutableBufferPointer { spotrf_("U", &size, $0.baseAddress!, &size, &info, 1) }
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
            b.withUnsafeMutableBufferPointer { spotrs_("U", &size, &columns, f.baseAddress!, &size, $0.baseAddress!, &size, &info, 1) }
        }
        precondition(info == 0, "choleskySolve: argument \(-info) was invalid")
    }
}
