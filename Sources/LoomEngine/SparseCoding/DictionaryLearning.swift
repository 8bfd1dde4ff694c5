import LoomCore

/// Learning a dictionary whose atoms code a set of signals sparsely:
/// alternate coding the signals with the atoms fixed and updating the atoms
/// with the codes fixed. Three methods share the loop, the start (distinct
/// signals, normalised) and the care for unused atoms:
///
/// - `ksvd`: OMP codes, then each atom and its coefficients refitted in turn
///   to what the others leave unexplained (approximate K-SVD: one power
///   iteration instead of an SVD, Rubinstein, Zibulevsky and Elad, 2008).
/// - `mod`: OMP codes, then all atoms at once by least squares (Engan et al.).
/// - `online`: mini-batches, the statistics AᵀA and XᵀA accumulated, and a
///   block-coordinate pass over the atoms after each batch (Mairal et al.,
///   2010); for data that does not fit one batch, and for the lasso.
///
/// For `ksvd` and `mod` the cost never increases from one iteration to the
/// next: should new OMP codes be worse in all, each sample keeps the better
/// of its old and new codes.
public enum DictionaryLearning {
    public enum Method: String, Sendable, CaseIterable { case ksvd, mod, online }

    /// How the signals are coded while learning.
    public enum Coding: Sendable, Equatable {
        /// OMP with at most this many nonzeros.
        case sparsity(Int)
        /// The lasso with this penalty (`online` only).
        case lasso(alpha: Double)

        /// The coder it stands for: OMP or the lasso.
        public var encoder: SparseEncoder {
            switch self {
            case .sparsity(let t): return .omp(sparsity: t, relativeError: nil)
            case .lasso(let alpha): return .lasso(alpha: alpha)
            }
        }
    }

    public struct Options: Sendable {
        public var atoms: Int
        public var coding: Coding
        public var method: Method
        public var iterations: Int
        /// Samples per mini-batch (`online`).
        public var batch: Int
        /// Stop once an iteration lowers the cost by less than this share of it (0: never).
        public var tolerance: Double

        public init(atoms: Int, coding: Coding, method: Method = .ksvd, iterations: Int = 10, batch: Int = 256,
                    tolerance: Double = 0) {
            self.atoms = atoms
            self.coding = coding
            self.method = method
            self.iterations = iterations
            self.batch = batch
            self.tolerance = tolerance
        }
    }

    public struct Result: Sendable {
        public var dictionary: SparseDictionary
        /// The signals' codes over `dictionary`.
        public var codes: SparseCodes
        /// ‖X − CD‖_F / ‖X‖_F after each finished iteration (for `online`,
        /// over each pass's mini-batches as they were coded).
        public var costs: [Double]
        /// Atoms that went unused and were restarted from badly coded samples.
        public var restartedAtoms: Int
        /// Stopped by `shouldStop` (the result is the last finished iteration's).
        public var interrupted: Bool
        /// Stopped because an iteration improved the cost by less than the tolerance.
        public var converged: Bool
    }

    /// The bytes `learn` allocates for `samples` signals of `length` values:
    /// the codes and correlations of every sample (twice over: an
    /// iteration keeps the last one's to fall back on), the residuals, the
    /// Gram matrix and MOD's (or the online method's) atoms-by-atoms system.
    public static func learningBytes(samples: Int, length: Int, _ options: Options) -> Int {
        let k = options.atoms
        return MemoryAccount.product(4, MemoryAccount.sum(MemoryAccount.product(samples, MemoryAccount.sum(3 * k, 2 * length, 4)),
                                                          MemoryAccount.product(2, k, k), MemoryAccount.product(2, k, length)))
    }

    /// Learns `options.atoms` atoms from the rows of `signals`. `progress` is
    /// called after each iteration with its number and cost. Nil when
    /// `shouldStop` said stop before the first iteration finished.
    public static func learn(_ signals: Tensor, _ options: Options, random: inout RandomGenerator,
                             shouldStop: () -> Bool = { false },
                             progress: (_ iteration: Int, _ cost: Double) -> Void = { _, _ in }) -> Result? {
        // BLAS on one thread: the engine splits the samples itself, in fixed chunks.
        BLAS.singleThreaded { learnOnOneBLASThread(signals, options, random: &random, shouldStop: shouldStop, progress: progress) }
    }

    static func learnOnOneBLASThread(_ signals: Tensor, _ options: Options, random: inout RandomGenerator,
                                     shouldStop: () -> Bool, progress: (_ iteration: Int, _ cost: Double) -> Void) -> Result? {
        precondition(signals.batch > 0 && options.atoms > 0 && options.iterations > 0)
        if case .lasso = options.coding { precondition(options.method == .online, "lasso coding learns with method online") }
        var state = State(signals: signals, dictionary: initialAtoms(signals, count: options.atoms, random: &random))
        var costs: [Double] = []
        var interrupted = false, converged = false
        var online = options.method == .online ? OnlineStatistics(atoms: options.atoms, length: signals.sampleSize) : nil
        for _ in 0..<options.iterations {
            let saved = state
            let finished: Bool
            switch options.method {
            case .ksvd, .mod:
                guard case .sparsity(let t) = options.coding else { preconditionFailure() }
                finished = options.method == .ksvd ? state.ksvd(sparsity: t, shouldStop: shouldStop)
                    : state.mod(sparsity: t, shouldStop: shouldStop)
            case .online:
                finished = online!.pass(&state, coding: options.coding, batch: options.batch, random: &random,
                                        shouldStop: shouldStop)
            }
            guard finished else {
                state = saved
                interrupted = true
                break
            }
            costs.append(state.cost)
            progress(costs.count, state.cost)
            if options.tolerance > 0, costs.count >= 2, costs[costs.count - 2] - state.cost < options.tolerance * costs[costs.count - 2] {
                converged = true
                break
            }
        }
        guard !costs.isEmpty else { return nil }
        if options.method == .online {
            state.codes = SparseCoding.encode(signals, with: state.dictionary, options.coding.encoder)!
        }
        return Result(dictionary: state.dictionary, codes: state.codes, costs: costs, restartedAtoms: state.restarted,
                      interrupted: interrupted, converged: converged)
    }

    /// `count` distinct signals of nonzero norm, normalised (random unit
    /// vectors when there are not enough).
    static func initialAtoms(_ signals: Tensor, count: Int, random: inout RandomGenerator) -> SparseDictionary {
        let n = signals.sampleSize
        var order = Array(0..<signals.batch)
        order.shuffle(using: &random)
        var atoms: [Float] = []
        atoms.reserveCapacity(count * n)
        for i in order where atoms.count < count * n {
            let row = signals.storage[(i * n)..<((i + 1) * n)]
            if row.contains(where: { $0 != 0 }) { atoms += row }
        }
        while atoms.count < count * n { atoms.append(random.nextNormalFloat()) }
        var d = SparseDictionary(atoms: atoms, count: count, length: n)
        d.normalize()
        return d
    }
}
