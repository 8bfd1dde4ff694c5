/// Codes of `samples` signals over a dictionary of `atoms` atoms, one code a
/// row, kept dense (most entries zero) so that C·D is one matrix product.
public struct SparseCodes: Sendable, Equatable {
    /// `samples` × `atoms`, row-major.
    public var values: [Float]
    public let samples: Int
    public let atoms: Int
    /// For OMP: the summed squared residual Σᵢ‖xᵢ − αᵢᵀD‖² before any atom
    /// (index 0: Σᵢ‖xᵢ‖²) and after each step, a sample that stopped early
    /// counting its last residual; the error against the number of nonzeros.
    public var residualByStep: [Double]?
    /// For ISTA and FISTA: the objective Σᵢ ½‖xᵢ − αᵢᵀD‖² + λ‖αᵢ‖₁ before
    /// the first iteration and after each, a chunk of samples that stopped
    /// early counting its last; its count less one is the iterations used.
    public var objectiveByIteration: [Double]?
    /// Samples whose OMP coding stopped before its target because the next
    /// atom was a linear combination of the ones already chosen.
    public var dependentStops = 0

    public init(values: [Float], samples: Int, atoms: Int) {
        precondition(values.count == samples * atoms, "SparseCodes: \(values.count) values for \(samples)x\(atoms)")
        self.values = values
        self.samples = samples
        self.atoms = atoms
    }

    public init(zeros samples: Int, atoms: Int) {
        self.init(values: [Float](repeating: 0, count: samples * atoms), samples: samples, atoms: atoms)
    }

    /// The codes of samples `indices`, in that order (no objective or residual curves: those were the whole set's).
    public func subset(_ indices: [Int]) -> SparseCodes {
        var values = [Float]()
        values.reserveCapacity(indices.count * atoms)
        for i in indices { values += code(i) }
        return SparseCodes(values: values, samples: indices.count, atoms: atoms)
    }

    /// Sample `i`'s code.
    public func code(_ i: Int) -> ArraySlice<Float> { values[(i * atoms)..<((i + 1) * atoms)] }

    /// Nonzeros in each code.
    public var nonzerosPerSample: [Int] {
        (0..<samples).map { i in
            var n = 0
            for v in values[(i * atoms)..<((i + 1) * atoms)] where v != 0 { n += 1 }
            return n
        }
    }

    /// How many codes use each atom.
    public var usage: [Int] {
        var counts = [Int](repeating: 0, count: atoms)
        for i in 0..<samples {
            for k in 0..<atoms where values[i * atoms + k] != 0 { counts[k] += 1 }
        }
        return counts
    }

    /// Atom indices by how many codes use each (`usage`), the most used
    /// first and ties by index: the order `show atoms` draws them in.
    public static func atomsByUse(_ usage: [Int]) -> [Int] {
        Array(usage.indices).sorted { usage[$0] != usage[$1] ? usage[$0] > usage[$1] : $0 < $1 }
    }

    /// The share of entries that are zero.
    public var zeroFraction: Double {
        guard !values.isEmpty else { return 1 }
        return Double(values.reduce(0) { $0 + ($1 == 0 ? 1 : 0) }) / Double(values.count)
    }
}
