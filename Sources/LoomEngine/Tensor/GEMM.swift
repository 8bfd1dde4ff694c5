import CBLAS

/// Matrix products through BLAS `sgemm`, on row-major buffers:
/// C = alpha · op(A) · op(B) + beta · C, with op(A) m×k and op(B) k×n.
///
/// The leading dimensions (the distance between rows as stored) default to
/// the matrices' widths; a wider one multiplies a block of columns in place,
/// such as one time step's slice of a `[batch, steps, features]` tensor,
/// without copying it out.
public enum GEMM {
    public static func multiply(
        _ a: UnsafePointer<Float>, transposeA: Bool = false,
        _ b: UnsafePointer<Float>, transposeB: Bool = false,
        into c: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int,
        alpha: Float = 1, beta: Float = 0,
        lda: Int? = nil, ldb: Int? = nil, ldc: Int? = nil
    ) {
        guard m > 0, n > 0 else { return }
        let ldc = ldc ?? n
        guard k > 0 else { return scale(c, rows: m, columns: n, ldc: ldc, by: beta) }
        let lda = lda ?? (transposeA ? m : k), ldb = ldb ?? (transposeB ? k : n)
        precondition(lda >= (transposeA ? m : k) && ldb >= (transposeB ? k : n) && ldc >= n, "GEMM: a leading dimension is too small")
        // A product with a single row, column or term is a matrix-vector
        // product or an outer product: sgemm's packing would cost more than
        // the arithmetic (a recurrent layer's weight gradient on one feature,
        // 160×200 values, took 8.7 µs in sgemm and 1 µs in sgemv).
        if m == 1 || n == 1 || k == 1 {
            // beta applied here, so a NaN in c never meets BLAS's own scaling by 0.
            scale(c, rows: m, columns: n, ldc: ldc, by: beta)
        }
        if m == 1 {
            // c += op(B)ᵀ·a, a's k values `transposeA ? lda : 1` apart.
            cblas_sgemv(CblasRowMajor, transposeB ? CblasNoTrans : CblasTrans, Int32(transposeB ? n : k), Int32(transposeB ? k : n),
                        alpha, b, Int32(ldb), a, Int32(transposeA ? lda : 1), 1, c, 1)
        } else if n == 1 {
            // c += op(A)·b, b's k values `transposeB ? 1 : ldb` apart, c's m values ldc apart.
            cblas_sgemv(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, Int32(transposeA ? k : m), Int32(transposeA ? m : k),
                        alpha, a, Int32(lda), b, Int32(transposeB ? 1 : ldb), 1, c, Int32(ldc))
        } else if k == 1 {
            // c += alpha·a·bᵀ: a column of m values, a row of n.
            cblas_sger(CblasRowMajor, Int32(m), Int32(n), alpha, a, Int32(transposeA ? 1 : lda), b, Int32(transposeB ? ldb : 1),
                       c, Int32(ldc))
        } else {
            cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                        Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
        }
    }

    /// `c ← beta·c` for an m×n block: what a product adds nothing to leaves.
    private static func scale(_ c: UnsafeMutablePointer<Float>, rows m: Int, columns n: Int, ldc: Int, by beta: Float) {
        guard beta != 1 else { return }
        for r in 0..<m {
            let row = c + r * ldc
            if beta == 0 { row.update(repeating: 0, count: n) } else { for j in 0..<n { row[j] *= beta } }
        }
    }

    /// The product of two row-major matrices held in arrays (m×k times k×n).
    public static func product(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int,
                               transposeA: Bool = false, transposeB: Bool = false) -> [Float] {
        var c = [Float](repeating: 0, count: m * n)
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    multiply(pa.baseAddress!, transposeA: transposeA, pb.baseAddress!, transposeB: transposeB,
                             into: pc.baseAddress!, m: m, n: n, k: k)
                }
            }
        }
        return c
    }

    /// Fills each of `rows` rows of `out` (width `bias.count`) with `bias`:
    /// the start of y = x·W + b.
    public static func fillRows(_ out: UnsafeMutablePointer<Float>, rows: Int, with bias: [Float]) {
        bias.withUnsafeBufferPointer { b in
            for r in 0..<rows { Vector.copy(b.baseAddress!, into: out + r * b.count, count: b.count) }
        }
    }

    /// Adds the rows of `gradient` (`rows` × `width`) into `sums`: a bias's gradient.
    public static func addRows(_ gradient: UnsafeBufferPointer<Float>, rows: Int, into sums: inout [Float]) {
        let width = sums.count
        guard rows > 0, width > 0 else { return }
        sums.withUnsafeMutableBufferPointer { s in
            let total = s.baseAddress!
            var row = gradient.baseAddress!
            for _ in 0..<rows {
                Vector.add(row, into: total, count: width)
                row += width
            }
        }
    }
}
