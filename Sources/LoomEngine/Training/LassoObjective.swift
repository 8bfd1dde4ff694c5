/// The lasso objective ½‖x − zD‖² + α‖z‖₁ of codes z `[batch, K]` for
/// signals x `[batch, n]` over fixed atoms D `[K, n]`, per sample.
/// `loss lasso` trains a LISTA layer on it, with no target codes (Ablin et
/// al. 2019): what its codes should minimise, where matching a solver's
/// codes by squared error weighs every code value alike.
public struct LassoObjective: Sendable {
    public let dictionary: SparseDictionary
    public let alpha: Float

    public init(dictionary: SparseDictionary, alpha: Float) {
        self.dictionary = dictionary
        self.alpha = alpha
    }

    /// The mean objective over the rows, and its gradient with respect to
    /// the codes, −(x − zD)Dᵀ + α·sign(z), of the mean over `batch` rows
    /// (default: these; a shard's share of a batch).
    public func evaluate(codes z: Tensor, signals x: Tensor, withGradient: Bool = true,
                         batch: Int? = nil) -> (loss: Double, gradient: Tensor) {
        let (total, gradient) = summed(codes: z, signals: x, withGradient: withGradient, batch: batch, onto: 0)
        return (z.batch == 0 ? 0 : total / Double(z.batch), gradient)
    }

    /// `total` plus each row's objective in order (so a data set scored a
    /// batch at a time sums as one pass does), and the gradient as `evaluate` says.
    func summed(codes z: Tensor, signals x: Tensor, withGradient: Bool, batch: Int?,
                onto start: Double) -> (total: Double, gradient: Tensor) {
        let rows = z.batch, atoms = dictionary.count, length = dictionary.length
        let over = Float(batch ?? rows)
        // r = x − zD.
        var residual = x.storage
        z.storage.withUnsafeBufferPointer { zs in
            dictionary.atoms.withUnsafeBufferPointer { d in
                residual.withUnsafeMutableBufferPointer { r in
                    GEMM.multiply(zs.baseAddress!, d.baseAddress!, into: r.baseAddress!, m: rows, n: length, k: atoms,
                                  alpha: -1, beta: 1)
                }
            }
        }
        var total = start
        for row in 0..<rows {
            var squares = 0.0, absolutes = 0.0
            for r in residual[row * length ..< (row + 1) * length] { squares += Double(r * r) }
            for c in z.storage[row * atoms ..< (row + 1) * atoms] { absolutes += Double(abs(c)) }
            total += squares / 2 + Double(alpha) * absolutes
        }
        guard withGradient else { return (total, Tensor(zeros: [0])) }
        // α·sign(z)/over − (r·Dᵀ)/over.
        var gradient = Tensor(shape: z.shape, storage: z.storage.map { $0 > 0 ? alpha / over : $0 < 0 ? -alpha / over : 0 })
        residual.withUnsafeBufferPointer { r in
            dictionary.atoms.withUnsafeBufferPointer { d in
                gradient.storage.withUnsafeMutableBufferPointer { g in
                    GEMM.multiply(r.baseAddress!, d.baseAddress!, transposeB: true, into: g.baseAddress!, m: rows, n: atoms,
                                  k: length, alpha: -1 / over, beta: 1)
                }
            }
        }
        return (total, gradient)
    }
}

extension Sequential {
    /// The objective `loss lasso` scores this model's outputs by: that of the
    /// LISTA layer it ends with, over the atoms and at the α the layer was
    /// declared with; nil for any other model, or when a layer before it
    /// changes the inputs' values (the signals are the model's inputs).
    public var lassoObjective: LassoObjective? {
        guard let lista = layers.last as? Lista, valueChangingLayers.count == 1 else { return nil }
        return LassoObjective(dictionary: lista.dictionary, alpha: Float(lista.declaredAlpha))
    }

    /// The layers that change their inputs' values, not just their shape.
    public var valueChangingLayers: [Layer] { layers.filter { $0.kind != "flatten" && $0.kind != "reshape" } }
}
