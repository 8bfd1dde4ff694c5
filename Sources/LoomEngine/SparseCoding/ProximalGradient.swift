import LoomCore

/// The lasso, min ½‖x − αᵀD‖² + λ‖α‖₁ (the objective `LassoCD` solves), by
/// proximal gradient: a gradient step of 1/L, L the largest eigenvalue of
/// the Gram matrix G = DDᵀ, then soft thresholding at λ/L (ISTA); FISTA adds
/// Beck and Teboulle's momentum, tₖ₊₁ = (1 + √(1 + 4tₖ²))/2.
///
/// A chunk of samples moves together: the gradient of the whole chunk is
/// Q − C with Q = A·G, one product an iteration (`ProximalKernels.product`:
/// over the nonzero codes only once they are few). The momentum point's Q is
/// Qₖ + β(Qₖ − Qₖ₋₁) by linearity, so that single product also gives the
/// objective at every iterate. Each chunk stops after `iterations` or once
/// an iteration changes its objective by at most `tolerance` times it (0
/// runs every iteration). The objective, not the codes' change (the rule
/// before, which ran on long after the objective had settled), nor a
/// duality gap: the gap from the scaled residual stalls near 1e-3 in
/// single precision while the objective is within 1e-5 of the lowest. A
/// row whose objective rises restarts its momentum (O'Donoghue and Candès
/// 2015), which damps the oscillations momentum makes near a sparse solution.
enum ProximalGradient {
    /// What a chunk's run leaves: its objective before the first step and after each.
    struct ChunkRun { var objectives: [Double] = [] }

    static func encode(_ p: CodingProblem, alpha: Double, positive: Bool, accelerated: Bool, iterations: Int,
                       tolerance: Double, warmStart: SparseCodes?, shouldStop: () -> Bool) -> SparseCodes? {
        let atoms = p.atoms, samples = p.samples
        if let warmStart { precondition(warmStart.samples == samples && warmStart.atoms == atoms, "proximal gradient: warm start of another shape") }
        var codes = warmStart?.values ?? [Float](repeating: 0, count: samples * atoms)
        let lipschitz = largestEigenvalue(of: p.dictionary)
        let chunks = (samples + SparseCoding.chunk - 1) / SparseCoding.chunk
        var runs = [ChunkRun](repeating: ChunkRun(), count: chunks)
        let finished = codes.withUnsafeMutableBufferPointer { out in
            runs.withUnsafeMutableBufferPointer { runs in
                p.gram.withUnsafeBufferPointer { g in
                    p.correlations.withUnsafeBufferPointer { c in
                        p.squaredNorms.withUnsafeBufferPointer { norms in
                            let solver = Solver(gram: g.baseAddress!, correlations: c.baseAddress!, squaredNorms: norms.baseAddress!,
                                                atoms: atoms, lipschitz: lipschitz, alpha: alpha, positive: positive, accelerated: accelerated)
                            return p.forEachChunk(shouldStop: shouldStop) { range in
                                runs[range.lowerBound / SparseCoding.chunk].objectives = solver.run(
                                    out.baseAddress!, rows: range, iterations: iterations, tolerance: tolerance)
                            }
                        }
                    }
                }
            }
        }
        guard finished else { return nil }
        var result = SparseCodes(values: codes, samples: samples, atoms: atoms)
        result.objectiveByIteration = summedByIteration(runs.map(\.objectives))
        return result
    }

    /// The objectives of every chunk added up iteration by iteration, a chunk
    /// that stopped early counting its last (as OMP's residual by step does).
    static func summedByIteration(_ runs: [[Double]]) -> [Double] {
        let length = runs.map(\.count).max() ?? 0
        return (0..<length).map { k in runs.reduce(0) { $0 + ($1.isEmpty ? 0 : $1[min(k, $1.count - 1)]) } }
    }

    /// Soft thresholding's cut α/L, from α as a float: LISTA learns α as
    /// one, and its untrained cut is ISTA's to the bit.
    static func cut(alpha: Float, lipschitz: Double) -> Float { lipschitz > 0 ? Float(Double(alpha) / lipschitz) : 0 }

    /// λₘₐₓ(DDᵀ) = λₘₐₓ(DᵀD), from the smaller of the two in double
    /// precision; the trace (an upper bound, so still a safe step) should
    /// LAPACK not converge.
    static func largestEigenvalue(of d: SparseDictionary) -> Double {
        let k = d.count, n = d.length, side = min(k, n)
        let product = k <= n ? GEMM.product(d.atoms, d.atoms, m: k, n: k, k: n, transposeB: true)
            : GEMM.product(d.atoms, d.atoms, m: n, n: n, k: k, transposeA: true)
        let matrix = product.map(Double.init)
        if let largest = LAPACK.symmetricEigen(matrix, n: side)?.values.last, largest.isFinite { return max(largest, 0) }
        return (0..<side).reduce(0.0) { $0 + matrix[$1 * side + $1] }
    }

    /// One chunk's iterations over shared read-only data.
    struct Solver {
        let gram: UnsafePointer<Float>
        /// The whole batch's X·Dᵀ and ‖x‖².
        let correlations: UnsafePointer<Float>
        let squaredNorms: UnsafePointer<Double>
        let atoms: Int
        let lipschitz: Double
        let alpha: Double
        let positive: Bool
        let accelerated: Bool

        /// Runs the samples in `range` from their codes in `codes` (the
        /// batch's, overwritten with the result); returns the chunk's
        /// objective before the first step and after each.
        func run(_ codes: UnsafeMutablePointer<Float>, rows range: Range<Int>, iterations: Int, tolerance: Double) -> [Double] {
            let rows = range.count, count = rows * atoms
            let a = codes + range.lowerBound * atoms, c = correlations + range.lowerBound * atoms
            let squaredNorms = self.squaredNorms + range.lowerBound
            var q = [Float](repeating: 0, count: count), previousQ = q, previous = q
            var momentum = [Float](repeating: 0, count: rows), t = [Double](repeating: 1, count: rows)
            var rowObjectives = [Double](repeating: 0, count: rows)
            q.withUnsafeMutableBufferPointer { ProximalKernels.product(a, gram, into: $0.baseAddress!, rows: rows, width: atoms) }
            var objectives = [measure(a, q, c, rows: rows, squaredNorms: squaredNorms, into: &rowObjectives)]
            guard lipschitz > 0 else { return objectives }
            let step = Float(1 / lipschitz), cut = ProximalGradient.cut(alpha: Float(alpha), lipschitz: lipschitz)
            for _ in 0..<iterations {
                if accelerated {
                    for r in 0..<rows {
                        let next = (1 + (1 + 4 * t[r] * t[r]).squareRoot()) / 2
                        momentum[r] = Float((t[r] - 1) / next)
                        t[r] = next
                    }
                }
                previous.withUnsafeMutableBufferPointer { old in
                    q.withUnsafeBufferPointer { q in
                        previousQ.withUnsafeBufferPointer { oldQ in
                            momentum.withUnsafeBufferPointer { beta in
                                ProximalKernels.momentumStep(a, old: old.baseAddress!, q: q.baseAddress!, oldQ: oldQ.baseAddress!, c: c,
                                                             beta: beta.baseAddress!, rows: rows, width: atoms, step: step, cut: cut,
                                                             positive: positive)
                            }
                        }
                    }
                }
                swap(&q, &previousQ)
                q.withUnsafeMutableBufferPointer { ProximalKernels.product(a, gram, into: $0.baseAddress!, rows: rows, width: atoms) }
                let lastObjectives = rowObjectives, last = objectives[objectives.count - 1]
                let objective = measure(a, q, c, rows: rows, squaredNorms: squaredNorms, into: &rowObjectives)
                objectives.append(objective)
                // O'Donoghue and Candès's restart: a row whose objective rose starts its momentum afresh.
                for r in 0..<rows where rowObjectives[r] > lastObjectives[r] { t[r] = 1 }
                if tolerance > 0 && abs(last - objective) <= tolerance * objective { break }
            }
            return objectives
        }

        /// The chunk's objective (the sum over its rows), each row's into `rowObjectives`.
        func measure(_ a: UnsafePointer<Float>, _ q: [Float], _ c: UnsafePointer<Float>, rows: Int, squaredNorms: UnsafePointer<Double>,
                     into rowObjectives: inout [Double]) -> Double {
            q.withUnsafeBufferPointer { q in
                var sum = 0.0
                for r in 0..<rows {
                    let row = r * atoms
                    rowObjectives[r] = ProximalKernels.objective(a + row, c: c + row, q: q.baseAddress! + row, width: atoms,
                                                                 squaredNorm: squaredNorms[r], alpha: alpha)
                    sum += rowObjectives[r]
                }
                return sum
            }
        }
    }
}
