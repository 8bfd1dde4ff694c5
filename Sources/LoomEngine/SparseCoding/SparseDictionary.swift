import CBLAS

/// The atoms x is coded over: `count` atoms of `length` values, one atom a
/// row (as scikit-learn's `components_`), each of unit norm, so a code α of
/// a signal x is read back as x ≈ Σₖ αₖ·atomₖ = αᵀD.
public struct SparseDictionary: Sendable, Equatable {
    /// `count` × `length`, row-major.
    public internal(set) var atoms: [Float]
    public let count: Int
    public let length: Int

    /// Atoms as given; `normalize()` brings them to unit norm.
    public init(atoms: [Float], count: Int, length: Int) {
        precondition(count > 0 && length > 0 && atoms.count == count * length,
                     "SparseDictionary: \(atoms.count) values for \(count) atoms of \(length)")
        self.atoms = atoms
        self.count = count
        self.length = length
    }

    /// Atom `k`'s values.
    public func atom(_ k: Int) -> ArraySlice<Float> { atoms[(k * length)..<((k + 1) * length)] }

    /// Each atom's Euclidean norm.
    public var norms: [Float] {
        atoms.withUnsafeBufferPointer { a in
            (0..<count).map { cblas_snrm2(Int32(length), a.baseAddress! + $0 * length, 1) }
        }
    }

    /// Scales every atom to unit norm. Returns how many were not of unit norm
    /// (off by more than 1e-3) before; nil, changing nothing, when an atom is
    /// all zeros (it cannot be scaled).
    @discardableResult
    public mutating func normalize() -> Int? {
        let norms = self.norms
        guard norms.allSatisfy({ $0 > 0 && $0.isFinite }) else { return nil }
        let length = self.length
        atoms.withUnsafeMutableBufferPointer { a in
            for k in 0..<count { cblas_sscal(Int32(length), 1 / norms[k], a.baseAddress! + k * length, 1) }
        }
        return norms.filter { abs($0 - 1) > 1e-3 }.count
    }

    /// The atoms' inner products DDᵀ (`count` × `count`).
    public var gram: [Float] { GEMM.product(atoms, atoms, m: count, n: count, k: length, transposeB: true) }

    /// The largest |cosine| between two different atoms: near 1 when two
    /// atoms (almost) repeat each other, so codes over them are ambiguous.
    public var coherence: Float {
        let g = gram
        var largest: Float = 0
        for i in 0..<count { for j in (i + 1)..<count { largest = max(largest, abs(g[i * count + j])) } }
        return largest
    }

    /// The signals the codes stand for, C·D (`samples` × `length`).
    public func reconstruct(_ codes: SparseCodes) -> [Float] {
        precondition(codes.atoms == count, "reconstruct: codes over \(codes.atoms) atoms, the dictionary has \(count)")
        return GEMM.product(codes.values, atoms, m: codes.samples, n: length, k: count)
    }
}
