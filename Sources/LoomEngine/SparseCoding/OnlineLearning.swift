import CBLAS

extension DictionaryLearning {
    /// The online method's memory of the batches seen (Mairal et al., 2010):
    /// A = Σ αᵢαᵢᵀ and B = Σ αᵢxᵢᵀ, older batches weighted down as
    /// scikit-learn's `MiniBatchDictionaryLearning` does.
    struct OnlineStatistics {
        var a: [Float]      // atoms × atoms
        var b: [Float]      // atoms × length, like the dictionary
        var batches = 0
        let atoms: Int, length: Int

        init(atoms: Int, length: Int) {
            self.atoms = atoms
            self.length = length
            a = [Float](repeating: 0, count: atoms * atoms)
            b = [Float](repeating: 0, count: atoms * length)
        }

        /// One pass over the signals in shuffled mini-batches; the state's cost
        /// is then that of each batch's codes as it was coded (every sample is
        /// coded once a pass). False when stopped.
        mutating func pass(_ state: inout State, coding: Coding, batch: Int, random: inout RandomGenerator,
                           shouldStop: () -> Bool) -> Bool {
            let samples = state.signals.batch
            var order = Array(0..<samples)
            order.shuffle(using: &random)
            var residual = 0.0
            for start in stride(from: 0, to: samples, by: batch) {
                if shouldStop() { return false }
                let x = state.signals.gathering(samples: Array(order[start..<min(samples, start + batch)]))
                guard let codes = SparseCoding.encode(x, with: state.dictionary, coding.encoder, shouldStop: shouldStop) else {
                    return false
                }
                let (r, norms) = SparseCoding.residuals(x, codes, state.dictionary)
                residual += norms.reduce(0, +)
                accumulate(x, codes, batch: batch)
                updateAtoms(&state.dictionary, residuals: r, norms: norms, restarted: &state.restarted)
            }
            state.residuals = [residual]
            return true
        }

        /// A ← βA + ΓᵀΓ/b, B ← βB + ΓᵀX/b.
        mutating func accumulate(_ x: Tensor, _ codes: SparseCodes, batch size: Int) {
            batches += 1
            let step = batches - 1
            let theta = Double(step < size - 1 ? (step + 1) * size : size * size + step + 1 - size)
            let beta = Float((theta + 1 - Double(size)) / (theta + 1))
            let scale = 1 / Float(x.batch)
            codes.values.withUnsafeBufferPointer { c in
                a.withUnsafeMutableBufferPointer {
                    GEMM.multiply(c.baseAddress!, transposeA: true, c.baseAddress!, into: $0.baseAddress!,
                                  m: atoms, n: atoms, k: x.batch, alpha: scale, beta: beta)
                }
                x.storage.withUnsafeBufferPointer { xs in
                    b.withUnsafeMutableBufferPointer {
                        GEMM.multiply(c.baseAddress!, transposeA: true, xs.baseAddress!, into: $0.baseAddress!,
                                      m: atoms, n: length, k: x.batch, alpha: scale, beta: beta)
                    }
                }
            }
        }

        /// One block-coordinate pass: dₖ ← dₖ + (Bₖ − Aₖ·D)/Aₖₖ, then unit
        /// norm; an atom the batches have not used restarts from the batch's
        /// worst residual.
        mutating func updateAtoms(_ d: inout SparseDictionary, residuals r: [Float], norms: [Double], restarted: inout Int) {
            let n = length
            var worst = norms.indices.sorted { norms[$0] > norms[$1] }.makeIterator()
            var update = [Float](repeating: 0, count: n)
            for k in 0..<atoms {
                let akk = a[k * atoms + k]
                if akk > 1e-6 {
                    a.withUnsafeBufferPointer { ap in
                        d.atoms.withUnsafeBufferPointer { dp in
                            cblas_sgemv(CblasRowMajor, CblasTrans, Int32(atoms), Int32(n), 1, dp.baseAddress!, Int32(n),
                                        ap.baseAddress! + k * atoms, 1, 0, &update, 1)
                        }
                    }
                    for t in 0..<n { update[t] = d.atoms[k * n + t] + (b[k * n + t] - update[t]) / akk }
                } else {
                    guard let i = worst.next(), norms[i] > 0 else { continue }
                    for t in 0..<n { update[t] = r[i * n + t] }
                    for t in 0..<atoms { a[k * atoms + t] = 0; a[t * atoms + k] = 0 }
                    for t in 0..<n { b[k * n + t] = 0 }
                    restarted += 1
                }
                let norm = cblas_snrm2(Int32(n), update, 1)
                guard norm > 0, norm.isFinite else { continue }
                for t in 0..<n { d.atoms[k * n + t] = update[t] / norm }
            }
        }
    }
}
