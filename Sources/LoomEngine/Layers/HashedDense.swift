import LoomCore

/// `dense UNITS … hashed R`: a dense layer whose `[inputs, units]` matrix
/// is virtual, drawn from R real weights by a fixed hash (`WeightHash`).
/// It stores the real weights `[R, 1]` (a column, so pruning reads them as
/// R weights: a pruned one zeroes every virtual weight in its bucket) and a
/// bias per unit; forward multiplies by V as dense does (V gathered once
/// per version of the weights, see `VirtualWeights`), backward sums each
/// virtual weight's gradient into its bucket.
public final class HashedDense: Layer {
    public let name: String
    public let kind = "dense"
    public let inputShape: [Int]
    public let outputShape: [Int]
    public let weight: Parameter
    public let bias: Parameter
    public let hash: WeightHash
    private var input = Tensor(zeros: [0])
    /// V for the current real weights, shared with the replicas.
    private let virtualWeights: VirtualWeights
    /// V as the last training forward used it, for backward.
    private var virtual: [Float] = []
    /// V's gradient's buffer, kept from step to step.
    private var virtualGradient: [Float] = []

    /// A layer with `buckets` real weights, drawn with Glorot's limit for
    /// the virtual matrix's fans, so V starts at dense's scale.
    public convenience init(name: String, inputs: Int, units: Int, buckets: Int, steps: Int? = nil,
                            random: inout RandomGenerator) {
        self.init(name: name, hash: WeightHash(rows: inputs, columns: units, buckets: buckets), steps: steps, random: &random)
    }

    public init(name: String, hash: WeightHash, steps: Int? = nil, random: inout RandomGenerator) {
        self.name = name
        self.hash = hash
        inputShape = steps.map { [$0, hash.rows] } ?? [hash.rows]
        outputShape = steps.map { [$0, hash.columns] } ?? [hash.columns]
        weight = Parameter(name: "kernel", value: Initializer.glorotUniform(shape: [hash.buckets, 1], fanIn: hash.rows,
                                                                             fanOut: hash.columns, random: &random))
        bias = Parameter(name: "bias", value: Tensor(zeros: [hash.columns]))
        virtualWeights = VirtualWeights()
    }

    private init(replicating other: HashedDense, on parameters: [Parameter]) {
        name = other.name
        hash = other.hash
        inputShape = other.inputShape
        outputShape = other.outputShape
        weight = parameters[0]
        bias = parameters[1]
        virtualWeights = other.virtualWeights
    }

    public func replica(on parameters: [Parameter]) -> Layer { HashedDense(replicating: self, on: parameters) }

    public var parameters: [Parameter] { [weight, bias] }
    public var state: [LayerState] { [] }
    var positions: Int { inputShape.count == 2 ? inputShape[0] : 1 }
    var virtualCount: Int { hash.rows * hash.columns }
    public var multiplyAdds: Int { positions * virtualCount }
    /// As dense: its output, the gradient passed back and the one it receives.
    public var trainingFloatsPerSample: Int { outputSize * 3 }
    /// The dense layer it stands for: the virtual matrix and the biases (a copy per step on a sequence).
    public var unsharedParameters: Int { positions * (virtualCount + hash.columns) }
    public var sharingForm: SharingForm? { .hashed(virtual: virtualCount, real: hash.buckets) }

    /// V from the current real weights: gathered once per version of them
    /// and read by every shard of a step and every inference batch.
    func virtualMatrix() -> [Float] { virtualWeights.values(of: weight, through: hash) }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let v = virtualMatrix(), rows = x.batch * positions
        if training { (input, virtual) = (x, v) }
        return Tensor(shape: [x.batch] + outputShape) { out in
            GEMM.fillRows(out.baseAddress!, rows: rows, with: bias.value.storage)
            x.storage.withUnsafeBufferPointer { xs in
                v.withUnsafeBufferPointer { w in
                    GEMM.multiply(xs.baseAddress!, w.baseAddress!, into: out.baseAddress!, m: rows, n: hash.columns,
                                  k: hash.rows, beta: 1)
                }
            }
        }
    }

    /// dV = xᵀ·dy, summed into the buckets; the bias's gradient is dy's row
    /// sums. One product for all of dV: made in bands of rows (to scatter
    /// each while in cache), it came out of OpenBLAS rounded otherwise in
    /// places, and results are kept bit for bit.
    public func addParameterGradients(_ dy: Tensor) {
        let rows = dy.batch * positions
        var dv = Scratch.take(&virtualGradient, count: virtualCount, reuse: true)
        dy.storage.withUnsafeBufferPointer { g in
            input.storage.withUnsafeBufferPointer { xs in
                dv.withUnsafeMutableBufferPointer { d in
                    GEMM.multiply(xs.baseAddress!, transposeA: true, g.baseAddress!, into: d.baseAddress!, m: hash.rows,
                                  n: hash.columns, k: rows)
                }
            }
            GEMM.addRows(g, rows: rows, into: &bias.gradient.storage)
        }
        dv.withUnsafeBufferPointer { d in
            weight.gradient.storage.withUnsafeMutableBufferPointer {
                hash.scatterAdd(d.baseAddress!, into: $0.baseAddress!)
            }
        }
        virtualGradient = dv
    }

    /// dx = dy·Vᵀ, with the V the forward pass used.
    public func backward(_ dy: Tensor) -> Tensor {
        addParameterGradients(dy)
        return Tensor(shape: [dy.batch] + inputShape) { out in
            dy.storage.withUnsafeBufferPointer { g in
                virtual.withUnsafeBufferPointer { w in
                    GEMM.multiply(g.baseAddress!, w.baseAddress!, transposeB: true, into: out.baseAddress!,
                                  m: dy.batch * positions, n: hash.rows, k: hash.columns)
                }
            }
        }
    }

    /// The virtual matrix it multiplies by (rows inputs, a column per unit),
    /// then, where buckets are pruned, which virtual weights still train.
    public var weightGrids: [ReportGrid] {
        let (rows, columns) = (hash.rows, hash.columns)
        let title = "\(name)'s virtual weights, \(rows)x\(columns), from \(hash.buckets) real ones"
        let values = ReportGrid(title: title, rows: rows, columns: columns, values: virtualMatrix().map(Double.init))
        guard let mask = weight.mask else { return [values] }
        return [values, ReportGrid(title: "\(name)'s mask: the virtual weights whose bucket trains", kind: .pattern, rows: rows,
                                   columns: columns, values: hash.bucket.map { Double(mask[Int($0)]) })]
    }
}

/// A hashed layer's virtual matrix for one version of its real weights
/// (`Parameter.version`), shared by the layer's replicas: the first pass
/// after the weights change gathers it, and every other shard of the step
/// and every inference batch reads the same array.
final class VirtualWeights: Sendable {
    private let kept = Locked<(version: Int, values: [Float])?>(nil)

    func values(of weight: Parameter, through hash: WeightHash) -> [Float] {
        kept.withLock { kept in
            if let kept, kept.version == weight.version { return kept.values }
            let values = hash.virtualMatrix(of: weight.value.storage)
            kept = (weight.version, values)
            return values
        }
    }
}
