/// The Cholesky factor L of a Gram block G_SS = LLᵀ on a support that
/// changes one atom at a time, in double precision.
///
/// An atom appended adds one row (forward substitution: the same numbers a
/// fresh factorisation gives); an atom removed takes its row out and Givens
/// rotations turn the rows below back to triangular (Golub and Van Loan
/// §12.5). Either is O(m²) where refactoring is O(m³): the exact finish
/// changes its support by one atom a step.
public final class SupportCholesky {
    /// The most atoms the factor holds.
    public let capacity: Int
    /// The atoms it holds now (L is size × size).
    public private(set) var size = 0
    /// L, row-major with a stride of `capacity`; above the diagonal unused.
    private let l: UnsafeMutablePointer<Double>
    /// 1 / L's diagonal, so substitutions multiply rather than divide.
    private let inverseDiagonal: UnsafeMutablePointer<Double>

    public init(capacity: Int) {
        self.capacity = max(capacity, 1)
        l = .allocate(capacity: self.capacity * self.capacity)
        l.initialize(repeating: 0, count: self.capacity * self.capacity)
        inverseDiagonal = .allocate(capacity: self.capacity)
        inverseDiagonal.initialize(repeating: 0, count: self.capacity)
    }

    deinit {
        l.deallocate()
        inverseDiagonal.deallocate()
    }

    /// Forgets every atom.
    public func removeAll() { size = 0 }

    /// L's entry at row `i`, column `k` (k ≤ i).
    public func entry(_ i: Int, _ k: Int) -> Double { l[i * capacity + k] }

    /// Appends an atom: `cross[p]` is its Gram entry with the p-th atom held,
    /// `diagonal` its own. False, the factor unchanged, when it is full or a
    /// pivot this small next to the diagonal shows the atom (nearly) in the
    /// span of those held.
    public func append(cross: UnsafePointer<Double>, diagonal: Double) -> Bool {
        guard size < capacity else { return false }
        let m = size, row = l + m * capacity
        for k in 0..<m {
            let lk = l + k * capacity
            var sum = cross[k]
            for p in 0..<k { sum -= row[p] * lk[p] }
            row[k] = sum * inverseDiagonal[k]
        }
        var pivot = diagonal
        for p in 0..<m { pivot -= row[p] * row[p] }
        guard pivot > 1e-10 * diagonal else { return false }
        row[m] = pivot.squareRoot()
        inverseDiagonal[m] = 1 / row[m]
        size += 1
        return true
    }

    /// Removes the atom at `index`: its row goes, the rows below move up a
    /// place and each, one entry past the diagonal now, is rotated back.
    public func remove(at index: Int) {
        precondition(index >= 0 && index < size, "SupportCholesky: no atom \(index) of \(size)")
        let last = size - 1
        for r in index..<last { (l + r * capacity).update(from: l + (r + 1) * capacity, count: r + 2) }
        for j in index..<last {
            let rowJ = l + j * capacity
            let a = rowJ[j], b = rowJ[j + 1]
            let h = (a * a + b * b).squareRoot(), c = a / h, s = b / h
            rowJ[j] = h
            rowJ[j + 1] = 0
            inverseDiagonal[j] = 1 / h
            for r in (j + 1)..<last {
                let row = l + r * capacity, x = row[j], y = row[j + 1]
                row[j] = c * x + s * y
                row[j + 1] = c * y - s * x
            }
        }
        size = last
    }

    /// Solves LLᵀz = b for the atoms held, `b` overwritten with z.
    public func solve(_ b: UnsafeMutablePointer<Double>) {
        let m = size
        for i in 0..<m {
            let li = l + i * capacity
            var sum = b[i]
            for p in 0..<i { sum -= li[p] * b[p] }
            b[i] = sum * inverseDiagonal[i]
        }
        for i in stride(from: m - 1, through: 0, by: -1) {
            var sum = b[i]
            for p in (i + 1)..<m { sum -= l[p * capacity + i] * b[p] }
            b[i] = sum * inverseDiagonal[i]
        }
    }
}
