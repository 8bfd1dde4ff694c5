import CBLAS

extension DictionaryLearning {
    /// The dictionary being learned, the signals' current codes over it and
    /// each code's squared residual: what one iteration starts from.
    struct State {
        let signals: Tensor
        let totalEnergy: Double
        var dictionary: SparseDictionary
        var codes: SparseCodes
        /// Each sample's ‖x − αᵀD‖² for the current codes and atoms; nil before the first coding.
        var residuals: [Double]?
        var restarted = 0

        init(signals: Tensor, dictionary: SparseDictionary) {
            self.signals = signals
            self.dictionary = dictionary
            codes = SparseCodes(zeros: signals.batch, atoms: dictionary.count)
            totalEnergy = signals.storage.reduce(0.0) { $0 + Double($1) * Double($1) }
        }

        /// ‖X − CD‖_F / ‖X‖_F of the current codes.
        var cost: Double {
            let residual = (residuals ?? []).reduce(0, +)
            return totalEnergy > 0 ? (residual / totalEnergy).squareRoot() : 0
        }

        /// New OMP codes over the current atoms; false when stopped. Should
        /// they cost more in all than the old codes (OMP is greedy: on the
        /// digits this happens from the fourth iteration on), each sample
        /// keeps the better of its two codes, so the cost does not rise.
        /// Keeping the better code always, or keeping all old codes when the
        /// new ones are worse, tunes the atoms further to codes OMP does not
        /// find: fresh OMP codes of the digits came out at 0.197 and 0.200
        /// that way, 0.194 this way (0.190 with no guard, and no guarantee).
        mutating func codeNeverWorse(sparsity: Int, shouldStop: () -> Bool) -> Bool {
            guard let omp = BatchOMP.encode(CodingProblem(signals, dictionary), sparsity: sparsity, relativeError: nil,
                                            shouldStop: shouldStop) else { return false }
            var new = omp.codes
            var newResiduals = SparseCoding.residuals(signals, new, dictionary).squaredNorms
            if let old = residuals, newResiduals.reduce(0, +) > old.reduce(0, +) {
                let k = dictionary.count
                for i in 0..<signals.batch where old[i] < newResiduals[i] {
                    new.values.replaceSubrange((i * k)..<((i + 1) * k), with: codes.code(i))
                    newResiduals[i] = old[i]
                }
            }
            codes = new
            residuals = newResiduals
            return true
        }

        /// Ends an iteration: the residuals of the updated atoms, and every
        /// atom no code uses restarted from the residual of the worst-coded
        /// sample not used yet (which leaves the cost as it was).
        mutating func finishIteration() {
            let (r, norms) = SparseCoding.residuals(signals, codes, dictionary)
            residuals = norms
            let usage = codes.usage
            let unused = usage.indices.filter { usage[$0] == 0 }
            guard !unused.isEmpty else { return }
            let n = dictionary.length
            var worst = norms.indices.sorted { norms[$0] > norms[$1] }.makeIterator()
            for k in unused {
                guard let i = worst.next(), norms[i] > 0 else { break }
                dictionary.atoms.replaceSubrange((k * n)..<((k + 1) * n), with: r[(i * n)..<((i + 1) * n)])
                let norm = Float(norms[i].squareRoot())
                for j in 0..<n { dictionary.atoms[k * n + j] /= norm }
                restarted += 1
            }
        }
    }
}
