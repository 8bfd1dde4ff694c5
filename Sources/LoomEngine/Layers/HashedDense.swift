/// Where each weight of a hashed layer's virtual matrix comes from: a
/// bucket among the real weights and a sign (HashedNets, Chen et al. 2015:
/// V[i, j] = ξ(i, j) · w[h(i, j)]). Kept as two tables, made once and shared
/// by the layer's replicas, so building V is one gather.
public struct WeightHash: Sendable {
    public let rows: Int
    public let columns: Int
    /// How many real weights the buckets index.
    public let buckets: Int
    /// Per virtual weight, row-major: its bucket and its sign (±1).
    public let bucket: [Int32]
    public let sign: [Float]

    /// The fixed hash: bucket and sign of (row, column) from two SplitMix64
    /// finalisers of `row·2³² + column`, so a saved layer draws the same
    /// matrix when it is loaded. Row i is input i, column j unit j.
    public init(rows: Int, columns: Int, buckets: Int) {
        var bucket = [Int32](repeating: 0, count: rows * columns), sign = [Float](repeating: 1, count: rows * columns)
        for i in 0..<rows {
            for j in 0..<columns {
                let key = UInt64(i) << 32 | UInt64(j)
                bucket[i * columns + j] = Int32(WeightHash.mix(key) % UInt64(buckets))
                sign[i * columns + j] = WeightHash.mix(key ^ 0x5851_F42D_4C95_7F2D) >> 63 == 0 ? 1 : -1
            }
        }
        self.init(rows: rows, columns: columns, buckets: buckets, bucket: bucket, sign: sign)
    }

    /// Any assignment of buckets and signs, checked: one of each per
    /// virtual weight, buckets below `buckets`, signs ±1.
    public init(rows: Int, columns: Int, buckets: Int, bucket: [Int32], sign: [Float]) {
        precondition(bucket.count == rows * columns && sign.count == rows * columns, "WeightHash: one bucket and sign per weight")
        precondition(bucket.allSatisfy { $0 >= 0 && Int($0) < buckets } && sign.allSatisfy { $0 == 1 || $0 == -1 },
                     "WeightHash: buckets below \(buckets), signs ±1")
        self.rows = rows
        self.columns = columns
        self.buckets = buckets
        self.bucket = bucket
        self.sign = sign
    }

    /// SplitMix64's finaliser: every bit of the key moves every bit of the result.
    static func mix(_ key: UInt64) -> UInt64 {
        var z = key &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// V = ξ · w[h]: the virtual matrix from the real weights.
    func gather(_ real: UnsafePointer<Float>, into virtual: UnsafeMutablePointer<Float>) {
        bucket.withUnsafeBufferPointer { b in
            sign.withUnsafeBufferPointer { s in
                for k in 0..<b.count { virtual[k] = s[k] * real[Int(b[k])] }
            }
        }
    }

    /// dw[h] += ξ · dV: each bucket gets the sum of its virtual weights' gradients.
    func scatterAdd(_ virtualGradient: UnsafePointer<Float>, into real: UnsafeMutablePointer<Float>) {
        bucket.withUnsafeBufferPointer { b in
            sign.withUnsafeBufferPointer { s in
                for k in 0..<b.count { real[Int(b[k])] += s[k] * virtualGradient[k] }
            }
        }
    }
}

/// `dense UNITS … hashed R`: a dense layer whose `[inputs, units]` matrix
/// is virtual, drawn from R real weights by a fixed hash (`WeightHash`).
/// It stores the real weights `[R, 1]` (a column, so pruning reads them as
/// R weights: a pruned one zeroes every virtual weight in its bucket) and a
/// bias per unit; forward builds V and multiplies as dense does, backward
/// sums each virtual weight's gradient into its bucket.
public final class HashedDense: Layer {
    public let name: String
    public let kind = "dense"
    public let inputShape: [Int]
    public let outputShape: [Int]
    public let weight: Parameter
    public let bias: Parameter
    public let hash: WeightHash
    private var input = Tensor(zeros: [0])
    /// V as the last training forward built it, and its gradient's buffer.
    private var virtual: [Float] = []
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
    }

    private init(replicating other: HashedDense, on parameters: [Parameter]) {
        name = other.name
        hash = other.hash
        inputShape = other.inputShape
        outputShape = other.outputShape
        weight = parameters[0]
        bias = parameters[1]
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

    /// V from the current real weights (built afresh on every pass: the
    /// weights change every step, and a gather costs less than the product).
    func virtualMatrix() -> [Float] {
        [Float](unsafeUninitializedCapacity: virtualCount) { v, initialized in
            weight.value.storage.withUnsafeBufferPointer { hash.gather($0.baseAddress!, into: v.baseAddress!) }
            initialized = virtualCount
        }
    }

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

    /// dV = xᵀ·dy, summed into the buckets; the bias's gradient is dy's row sums.
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
            weight.gradient.storage.withUnsafeMutableBufferPointer { hash.scatterAdd(d.baseAddress!, into: $0.baseAddress!) }
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
