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

        /// New OMP codes over the current atoms, each sample keeping its old
        /// code where that one was better; false when stopped.
        mutating func codeKeepingBetter(sparsity: Int, shouldStop: () -> Bool) -> Bool {
            guard let omp = BatchOMP.encode(CodingProblem(signals, dictionary), sparsity: sparsity, relativeError: nil,
                                            shouldStop: shouldStop) else { return false }
            var new = omp.codes
            var newResiduals = SparseCoding.residuals(signals, new, dictionary).squaredNorms
            if let old = residuals {
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
