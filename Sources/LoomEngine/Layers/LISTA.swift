/// `lista T from D [alpha A]`: Gregor and LeCun's learned ISTA, T unrolled
/// steps of ISTA whose matrices and threshold are learned and shared by
/// every step. The language finds the dictionary `from` names and sets
/// `dictionary` before the line is built.
public struct ListaSpec: LayerSpec, Equatable {
    public var steps: Int
    /// The dictionary's name as the line writes it.
    public var from: String
    /// The lasso's L1 penalty the learned penalty starts from (the cut α/L).
    public var alpha: Double
    /// The atoms the layer starts from; nil until the language has found them.
    public var dictionary: SparseDictionary?

    public init(steps: Int, from: String, alpha: Double = 0.1, dictionary: SparseDictionary? = nil) {
        self.steps = steps
        self.from = from
        self.alpha = alpha
        self.dictionary = dictionary
    }

    public var blockPrefix: String { "lista" }

    /// Wₑ (atoms × values), S (atoms × atoms) and α.
    public func parameterCount(input: [Int]) throws(ShapeError) -> Int {
        guard let d = dictionary else { throw ShapeError("lista needs the dictionary `\(from)`") }
        guard let weights = Shape.count([d.count, d.length + d.count]), weights < Int.max else {
            throw ShapeError("the layer is too large to build")
        }
        return weights + 1
    }

    public func build(name: String, input: [Int], random: inout RandomGenerator) throws(ShapeError) -> [Layer] {
        guard let d = dictionary else { throw ShapeError("lista needs the dictionary `\(from)`") }
        guard steps > 0 else { throw ShapeError("lista needs at least one step") }
        guard alpha >= 0, alpha.isFinite else { throw ShapeError("lista takes an alpha of 0 or more, not \(alpha)") }
        guard Shape.count(input) == d.length else {
            throw ShapeError("the atoms of `\(from)` have \(d.length) values but the input is \(Shape.text(input)) "
                             + "(\(Shape.count(input).map(String.init) ?? "too many") values)")
        }
        return [Lista(name: name, input: input, steps: steps, dictionary: d, alpha: alpha)]
    }
}

/// T steps of z ← soft(z − η(z·S − x·Wₑᵀ), ηα) from z = 0, with x
/// `[batch, n]` (any sample shape of n values), Wₑ `[K, n]`, S `[K, K]`,
/// α a scalar and η = 1/L fixed; the output z `[batch, K]`. Started from a
/// dictionary D (`[K, n]`, atoms as rows), Wₑ = D, S = DDᵀ and α the
/// lasso's, with L = λₘₐₓ(DDᵀ): that is ISTA on the lasso ½‖x − zD‖² +
/// α‖z‖₁, in the order `ProximalGradient` computes it, so an untrained
/// layer gives its codes bit for bit. It is Gregor and LeCun's z ←
/// soft(x·Wₑᵀ/L + z(I − S/L), θ) with the 1/L kept apart, the threshold
/// too (θ = ηα): the learned α is of the size of the data, as Wₑ and S
/// are, so an optimizer's step (Adam's is about the learning rate) does
/// not throw it below zero at once, as it did θ = α/L, a thousandth of
/// that.
public final class Lista: Layer {
    public let name: String
    public let kind = "lista"
    public let inputShape: [Int]
    public let outputShape: [Int]
    public let steps: Int
    /// η = 1/L, ISTA's step, fixed: the matrices learn any other scale.
    public let step: Float
    /// L, for the cut α/L.
    let lipschitz: Double
    /// The α the line gave, where the learned one started: the lasso's
    /// penalty that `loss lasso` trains the codes to minimise.
    public let declaredAlpha: Double
    /// The dictionary the layer started from, for measuring its codes' error.
    public let dictionary: SparseDictionary
    /// Wₑ `[K, n]`, S `[K, K]`, α `[1]`.
    public let encoder: Parameter
    public let mutual: Parameter
    public let penalty: Parameter
    var atoms: Int { outputShape[0] }
    var length: Int { dictionary.length }
    /// The last training batch: its input, every step's codes z₀ … z_T and
    /// every step's values before thresholding.
    private var input = Tensor(zeros: [0])
    private var codes: [Float] = []
    private var before: [Float] = []

    init(name: String, input: [Int], steps: Int, dictionary d: SparseDictionary, alpha: Double) {
        self.name = name
        inputShape = input
        outputShape = [d.count]
        self.steps = steps
        dictionary = d
        let lipschitz = ProximalGradient.largestEigenvalue(of: d)
        self.lipschitz = lipschitz
        declaredAlpha = alpha
        step = lipschitz > 0 ? Float(1 / lipschitz) : 0
        encoder = Parameter(name: "encoder", value: Tensor(shape: [d.count, d.length], storage: d.atoms))
        mutual = Parameter(name: "mutual", value: Tensor(shape: [d.count, d.count], storage: BLAS.singleThreaded { d.gram }))
        penalty = Parameter(name: "alpha", value: Tensor(shape: [1], storage: [Float(alpha)]))
    }

    private init(replicating other: Lista, on parameters: [Parameter]) {
        name = other.name
        inputShape = other.inputShape
        outputShape = other.outputShape
        steps = other.steps
        step = other.step
        lipschitz = other.lipschitz
        declaredAlpha = other.declaredAlpha
        dictionary = other.dictionary
        encoder = parameters[0]
        mutual = parameters[1]
        penalty = parameters[2]
    }

    /// Files saved when the layer learned θ = α/L (`BLOCK.threshold`) read
    /// as α = θ·L, so they compute what they did.
    static func upgradingThresholds(_ tensors: [String: Tensor], in model: Sequential) -> [String: Tensor] {
        var tensors = tensors
        for block in model.blocks {
            guard let lista = block.main as? Lista, tensors["\(block.name).alpha"] == nil,
                  let old = tensors["\(block.name).threshold"], old.shape == [1] else { continue }
            tensors["\(block.name).alpha"] = Tensor(shape: [1], storage: [Float(Double(old.storage[0]) * lista.lipschitz)])
        }
        return tensors
    }

    public func replica(on parameters: [Parameter]) -> Layer { Lista(replicating: self, on: parameters) }
    public var parameters: [Parameter] { [encoder, mutual, penalty] }
    public var state: [LayerState] { [] }
    /// x·Wₑᵀ once, then z·S at every step after the first (z₀ = 0).
    public var multiplyAdds: Int { atoms * length + (steps - 1) * atoms * atoms }
    /// Every step's codes and values before thresholding, x·Wₑᵀ and the
    /// gradients through the steps, and the gradient passed back.
    public var trainingFloatsPerSample: Int { (3 * steps + 3) * atoms + length }
    /// The same weights at every step: unrolled, a copy per step.
    public var unsharedParameters: Int { steps * parameterCount }
    public var unrollsOverSteps: Bool { true }
    /// Soft thresholding's cut: α/L as ISTA computes it, or 0 should
    /// training take α below 0 (its gradient still flows there, as if the cut
    /// went on falling, so it can come back).
    public var cut: Float { ProximalGradient.cut(alpha: max(penalty.value.storage[0], 0), lipschitz: lipschitz) }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let rows = x.batch, size = rows * atoms
        var z = [Float](repeating: 0, count: training ? (steps + 1) * size : 2 * size)
        var v = [Float](repeating: 0, count: training ? steps * size : 0)
        let c = correlations(x)
        var q = [Float](repeating: 0, count: size)
        let (eta, cut) = (step, self.cut)
        z.withUnsafeMutableBufferPointer { z in
            for t in 1...steps {
                // The previous step's codes and this step's, in turn when nothing is kept.
                let previous = z.baseAddress! + (training ? t - 1 : (t - 1) % 2) * size
                let next = z.baseAddress! + (training ? t : t % 2) * size
                if t > 1 {
                    mutual.value.storage.withUnsafeBufferPointer { s in
                        q.withUnsafeMutableBufferPointer { ProximalKernels.product(previous, s.baseAddress!, into: $0.baseAddress!, rows: rows, width: atoms) }
                    }
                }
                v.withUnsafeMutableBufferPointer { v in
                    ProximalKernels.step(previous, q: q, c: c, step: eta, cut: cut, into: next,
                                         before: training ? v.baseAddress! + (t - 1) * size : nil, count: size)
                }
            }
        }
        let last = (training ? steps : steps % 2) * size
        if training {
            input = x
            codes = z
            before = v
        }
        return Tensor(shape: [rows, atoms], storage: Array(z[last..<(last + size)]))
    }

    /// x·Wₑᵀ, `[rows, K]`.
    func correlations(_ x: Tensor) -> [Float] {
        var c = [Float](repeating: 0, count: x.batch * atoms)
        x.storage.withUnsafeBufferPointer { xs in
            encoder.value.storage.withUnsafeBufferPointer { w in
                c.withUnsafeMutableBufferPointer {
                    GEMM.multiply(xs.baseAddress!, w.baseAddress!, transposeB: true, into: $0.baseAddress!, m: x.batch, n: atoms, k: length)
                }
            }
        }
        return c
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let dc = addGradientsThroughSteps(dy)
        return Tensor(shape: [dy.batch] + inputShape) { dx in
            dc.withUnsafeBufferPointer { g in
                encoder.value.storage.withUnsafeBufferPointer { w in
                    GEMM.multiply(g.baseAddress!, w.baseAddress!, into: dx.baseAddress!, m: dy.batch, n: length, k: atoms)
                }
            }
        }
    }

    public func addParameterGradients(_ dy: Tensor) { _ = addGradientsThroughSteps(dy) }

    /// Back through the steps from the last: adds S's, θ's and Wₑ's
    /// gradients and returns the gradient of x·Wₑᵀ (dx is that times Wₑ).
    private func addGradientsThroughSteps(_ dy: Tensor) -> [Float] {
        let rows = dy.batch, size = rows * atoms
        let (eta, cut) = (step, self.cut)
        var dz = dy.storage
        var dc = [Float](repeating: 0, count: size)
        // Each step's gradient before thresholding, for S's gradient in one product.
        var dv = [Float](repeating: 0, count: steps * size)
        var dCut = 0.0
        for t in stride(from: steps, through: 1, by: -1) {
            let base = (t - 1) * size
            for i in 0..<size {
                let value = before[base + i]
                let active = value > cut || value < -cut
                let g = active ? dz[i] : 0
                dv[base + i] = g
                if active { dCut += Double(value > 0 ? -g : g) }
                dc[i] += eta * g
            }
            guard t > 1 else { break }
            // dz_{t−1} = dv − η·dv·Sᵀ.
            dz.withUnsafeMutableBufferPointer { out in
                dv.withUnsafeBufferPointer { g in
                    for i in 0..<size { out[i] = g[base + i] }
                    mutual.value.storage.withUnsafeBufferPointer { s in
                        GEMM.multiply(g.baseAddress! + base, s.baseAddress!, transposeB: true, into: out.baseAddress!,
                                      m: rows, n: atoms, k: atoms, alpha: -eta, beta: 1)
                    }
                }
            }
        }
        // dS = −η Σₜ z_{t−1}ᵀ·dvₜ over t ≥ 2 (z₀ = 0): steps 1…T−1's codes against steps 2…T's gradients.
        if steps > 1 {
            codes.withUnsafeBufferPointer { z in
                dv.withUnsafeBufferPointer { g in
                    mutual.gradient.storage.withUnsafeMutableBufferPointer { ds in
                        GEMM.multiply(z.baseAddress! + size, transposeA: true, g.baseAddress! + size, into: ds.baseAddress!,
                                      m: atoms, n: atoms, k: (steps - 1) * rows, alpha: -eta, beta: 1)
                    }
                }
            }
        }
        penalty.gradient.storage[0] += eta * Float(dCut)
        // dWₑ = dcᵀ·x.
        dc.withUnsafeBufferPointer { g in
            input.storage.withUnsafeBufferPointer { xs in
                encoder.gradient.storage.withUnsafeMutableBufferPointer { dw in
                    GEMM.multiply(g.baseAddress!, transposeA: true, xs.baseAddress!, into: dw.baseAddress!,
                                  m: atoms, n: length, k: rows, beta: 1)
                }
            }
        }
        return dc
    }
}
