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
/// objective at every iterate. Each sample stops on its own (its row leaves
/// the chunk, so the product shrinks): after `iterations`, once an
/// iteration changes its objective by at most `tolerance` times it, or once
/// `SupportFinish` solves the lasso exactly from its iterate, the KKT
/// conditions checked: every row tries that once after
/// `Solver.earlyFinish` iterations (from its largest values) and again
/// whenever its signs have held for `Solver.settle` steps (single-precision
/// FISTA's tail, hundreds of iterations on coherent dictionaries, goes). A tolerance of 0
/// runs every iteration on every sample and never finishes: plain ISTA or
/// FISTA. The objective, not the codes' change, nor a duality gap: the gap
/// from the scaled residual stalls near 1e-3 in single precision while the
/// objective is within 1e-5 of the lowest. A row whose objective rises
/// restarts its momentum (O'Donoghue and Candès 2015), which damps the
/// oscillations momentum makes near a sparse solution.
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
                                                atoms: atoms, length: p.dictionary.length, lipschitz: lipschitz, alpha: alpha, positive: positive, accelerated: accelerated)
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
        /// The signals' length: the most atoms an exact finish solves on.
        let length: Int
        let lipschitz: Double
        let alpha: Double
        let positive: Bool
        let accelerated: Bool

        /// Steps a row's signs must hold before an exact finish is tried.
        static let settle = 4
        /// The iteration after which every row tries the exact finish once,
        /// signs settled or not: FISTA's first iterates find which atoms
        /// matter, and feature-sign steps reach the minimiser far sooner
        /// than FISTA's slow tail (after 3, 4, 6 and 11 measured: 6 keeps
        /// most of the gain with FISTA still doing the finding).
        static let earlyFinish = 6

        /// Runs the samples in `range` from their codes in `codes` (the
        /// batch's, overwritten with the result); returns the chunk's
        /// objective before the first step and after each.
        ///
        /// With a tolerance above 0 each row stops on its own: once an
        /// iteration changes its objective by at most `tolerance` times it,
        /// or once its signs have held `settle` steps and `SupportFinish`
        /// solves it exactly. A tolerance of 0 runs every row every iteration.
        func run(_ codes: UnsafeMutablePointer<Float>, rows range: Range<Int>, iterations: Int, tolerance: Double) -> [Double] {
            let a = codes + range.lowerBound * atoms
            let chunk = ProximalChunk(codes: a, correlations: correlations + range.lowerBound * atoms,
                                      squaredNorms: squaredNorms + range.lowerBound, rows: range.count, width: atoms)
            defer { chunk.writeRunning(into: a) }
            ProximalKernels.product(chunk.codes, gram, into: chunk.q, rows: chunk.count, width: atoms)
            var objectives = [measure(chunk)]
            guard lipschitz > 0 else { return objectives }
            let step = Float(1 / lipschitz), cut = ProximalGradient.cut(alpha: Float(alpha), lipschitz: lipschitz)
            var finisher = tolerance > 0 && alpha > 0
                ? SupportFinish(gram: gram, atoms: atoms, length: length, alpha: alpha, positive: positive) : nil
            var stopped = 0.0
            var leaving = [Bool](repeating: false, count: chunk.count)
            for iteration in 0..<iterations where chunk.count > 0 {
                let rows = chunk.count
                for r in 0..<rows {
                    if accelerated {
                        let next = (1 + (1 + 4 * chunk.t[r] * chunk.t[r]).squareRoot()) / 2
                        chunk.momentum[r] = Float((chunk.t[r] - 1) / next)
                        chunk.t[r] = next
                    } else {
                        chunk.momentum[r] = 0
                    }
                }
                ProximalKernels.momentumStep(chunk.codes, old: chunk.previous, q: chunk.q, oldQ: chunk.previousQ, c: chunk.correlations,
                                             beta: chunk.momentum, rows: rows, width: atoms, step: step, cut: cut, positive: positive,
                                             signsChanged: chunk.signsChanged)
                chunk.swapProducts()
                ProximalKernels.product(chunk.codes, gram, into: chunk.q, rows: rows, width: atoms)
                var objective = stopped
                for r in 0..<rows {
                    let last = chunk.objectives[r]
                    var now = rowObjective(chunk, r)
                    // O'Donoghue and Candès's restart: a row whose objective rose starts its momentum afresh.
                    if now > last { chunk.t[r] = 1 }
                    leaving[r] = false
                    if tolerance > 0 {
                        chunk.settled[r] = chunk.signsChanged[r] ? 0 : chunk.settled[r] + 1
                        if chunk.settled[r] == Self.settle || iteration + 1 == Self.earlyFinish, let exact = finisher?.finish(
                            chunk.codes + r * atoms, c: chunk.correlations + r * atoms, squaredNorm: chunk.squaredNorms[r]) {
                            now = exact
                            leaving[r] = true
                        } else {
                            leaving[r] = abs(last - now) <= tolerance * now
                        }
                        if leaving[r] { stopped += now }
                    }
                    chunk.objectives[r] = now
                    objective += now
                }
                objectives.append(objective)
                for r in stride(from: rows - 1, through: 0, by: -1) where leaving[r] { chunk.remove(r, into: a) }
            }
            return objectives
        }

        /// Row `r`'s objective from its codes and their product.
        func rowObjective(_ chunk: ProximalChunk, _ r: Int) -> Double {
            let row = r * atoms
            return ProximalKernels.objective(chunk.codes + row, c: chunk.correlations + row, q: chunk.q + row, width: atoms,
                                             squaredNorm: chunk.squaredNorms[r], alpha: alpha)
        }

        /// The chunk's objective (the sum over its rows), each row's into `objectives`.
        func measure(_ chunk: ProximalChunk) -> Double {
            var sum = 0.0
            for r in 0..<chunk.count {
                chunk.objectives[r] = rowObjective(chunk, r)
                sum += chunk.objectives[r]
            }
            return sum
        }
    }
}
