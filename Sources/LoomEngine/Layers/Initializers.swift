/// Keras's default initialisation: Glorot (Xavier) uniform weights,
/// U(-l, l) with l = √(6 / (fan_in + fan_out)); biases start at zero.
public enum Initializer {
    public static func glorotUniform(shape: [Int], fanIn: Int, fanOut: Int, random: inout RandomGenerator) -> Tensor {
        let limit = Float((6.0 / Double(fanIn + fanOut)).squareRoot())
        var t = Tensor(zeros: shape)
        for i in 0..<t.count { t[i] = (random.nextUnitFloat() * 2 - 1) * limit }
        return t
    }

    /// Keras's `Orthogonal` (gain 1) for a `[rows, columns]` weight: the Q
    /// factor of a standard normal matrix, so its rows (or, when there are
    /// more rows than columns, its columns) are orthonormal. Recurrent
    /// kernels start this way, so repeated products neither grow nor vanish.
    public static func orthogonal(rows: Int, columns: Int, random: inout RandomGenerator) -> Tensor {
        let (long, short) = (max(rows, columns), min(rows, columns))
        let normal = (0..<(long * short)).map { _ in random.nextNormalFloat() }
        // Column-major long×short Q: read row-major, that is short×long with orthonormal rows.
        let q = LAPACK.orthonormalColumns(normal, rows: long, columns: short)
        if rows <= columns { return Tensor(shape: [rows, columns], storage: q) }
        var t = Tensor(zeros: [rows, columns])
        for r in 0..<rows { for c in 0..<columns { t[r * columns + c] = q[c * rows + r] } }
        return t
    }
}
