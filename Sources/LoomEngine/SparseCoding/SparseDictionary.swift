import CBLAS
import LoomCore

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
    /// all zeros or holds a value that is not finite (it cannot be scaled).
    /// An atom whose norm, or its inverse, a float cannot hold (values near
    /// 3e38 or 1e-45) is scaled in double precision.
    @discardableResult
    public mutating func normalize() -> Int? {
        let norms = self.norms
        guard atoms.allSatisfy(\.isFinite), norms.allSatisfy({ $0 > 0 }) else { return nil }
        let length = self.length
        atoms.withUnsafeMutableBufferPointer { a in
            for k in 0..<count {
                let atom = a.baseAddress! + k * length
                if norms[k].isFinite, (1 / norms[k]).isFinite {
                    cblas_sscal(Int32(length), 1 / norms[k], atom, 1)
                } else {
                    let norm = (0..<length).reduce(0.0) { $0 + Double(atom[$1]) * Double(atom[$1]) }.squareRoot()
                    for j in 0..<length { atom[j] = Float(Double(atom[j]) / norm) }
                }
            }
        }
        return norms.filter { abs($0 - 1) > 1e-3 }.count
    }

    /// The atoms' inner products DDᵀ (`count` × `count`).
    public var gram: [Float] { GEMM.product(atoms, atoms, m: count, n: count, k: length, transposeB: true) }

    /// The bytes `gram` allocates (`Int.max` when no memory could hold it).
    public var gramBytes: Int { MemoryAccount.product(count, count, 4) }

    /// Rows of the Gram matrix `coherence` computes at a time.
    static let coherenceRows = 256

    /// The largest |cosine| between two different atoms: near 1 when two
    /// atoms (almost) repeat each other, so codes over them are ambiguous.
    /// Computed a band of rows of DDᵀ at a time, so it needs no memory in
    /// proportion to the Gram matrix (40,000 atoms: 40 MB, not 6.4 GB).
    public var coherence: Float { coherence(shouldStop: { false })! }

    /// The same, nil when `shouldStop` (asked between bands) said stop: a
    /// million atoms take minutes.
    public func coherence(shouldStop: () -> Bool) -> Float? {
        let rows = Self.coherenceRows
        var band = [Float](repeating: 0, count: min(count, rows) * count)
        var largest: Float = 0
        let finished = atoms.withUnsafeBufferPointer { d in
            band.withUnsafeMutableBufferPointer { g in
                for first in stride(from: 0, to: count, by: rows) {
                    if shouldStop() { return false }
                    let m = min(rows, count - first)
                    GEMM.multiply(d.baseAddress! + first * length, d.baseAddress!, transposeB: true, into: g.baseAddress!,
                                  m: m, n: count, k: length)
                    // Each row right of the diagonal: BLAS finds its largest |entry|.
                    for r in 0..<m where first + r + 1 < count {
                        let right = g.baseAddress! + r * count + first + r + 1
                        let j = Int(cblas_isamax(Int32(count - first - r - 1), right, 1))
                        largest = max(largest, abs(right[j]))
                    }
                }
                return true
            }
        }
        return finished ? largest : nil
    }

    /// The signals the codes stand for, C·D (`samples` × `length`).
    public func reconstruct(_ codes: SparseCodes) -> [Float] {
        precondition(codes.atoms == count, "reconstruct: codes over \(codes.atoms) atoms, the dictionary has \(count)")
        return GEMM.product(codes.values, atoms, m: codes.samples, n: length, k: count)
    }
}
