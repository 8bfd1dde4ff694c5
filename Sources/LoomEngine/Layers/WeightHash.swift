/// Where each weight of a hashed layer's virtual matrix comes from: a
/// bucket among the real weights and a sign (HashedNets, Chen et al. 2015:
/// V[i, j] = ξ(i, j) · w[h(i, j)]). Made once and shared by the layer's
/// replicas, so building V is one gather.
public struct WeightHash: Sendable {
    public let rows: Int
    public let columns: Int
    /// How many real weights the buckets index (at most 2³¹).
    public let buckets: Int
    /// Per virtual weight, row-major: its bucket in the low 31 bits and its
    /// sign in the top bit (set for −1). One table to read, and the sign
    /// applied to a float's sign bit, so the gather and the scatter have no
    /// multiply and no branch: the same numbers as multiplying by ±1.
    let codes: [UInt32]
    static let signBit: UInt32 = 0x8000_0000
    static let bucketBits: UInt32 = 0x7FFF_FFFF

    /// The fixed hash: bucket and sign of (row, column) from two SplitMix64
    /// finalisers of `row·2³² + column`, so a saved layer draws the same
    /// matrix when it is loaded. Row i is input i, column j unit j.
    public init(rows: Int, columns: Int, buckets: Int) {
        precondition(buckets >= 1 && buckets <= 1 << 31, "WeightHash: 1 to 2³¹ buckets")
        var codes = [UInt32](repeating: 0, count: rows * columns)
        for i in 0..<rows {
            for j in 0..<columns {
                let key = UInt64(i) << 32 | UInt64(j)
                let negative = WeightHash.mix(key ^ 0x5851_F42D_4C95_7F2D) >> 63 != 0
                codes[i * columns + j] = UInt32(WeightHash.mix(key) % UInt64(buckets)) | (negative ? WeightHash.signBit : 0)
            }
        }
        (self.rows, self.columns, self.buckets, self.codes) = (rows, columns, buckets, codes)
    }

    /// Any assignment of buckets and signs, checked: one of each per
    /// virtual weight, buckets below `buckets`, signs ±1.
    public init(rows: Int, columns: Int, buckets: Int, bucket: [Int32], sign: [Float]) {
        precondition(bucket.count == rows * columns && sign.count == rows * columns, "WeightHash: one bucket and sign per weight")
        precondition(bucket.allSatisfy { $0 >= 0 && Int($0) < buckets } && sign.allSatisfy { $0 == 1 || $0 == -1 },
                     "WeightHash: buckets below \(buckets), signs ±1")
        (self.rows, self.columns, self.buckets) = (rows, columns, buckets)
        codes = zip(bucket, sign).map { UInt32($0) | ($1 < 0 ? WeightHash.signBit : 0) }
    }

    /// Per virtual weight, row-major: the real weight it is drawn from.
    public var bucket: [Int32] { codes.map { Int32($0 & WeightHash.bucketBits) } }
    /// Per virtual weight, row-major: its sign, 1 or −1.
    public var sign: [Float] { codes.map { $0 & WeightHash.signBit == 0 ? 1 : -1 } }

    /// SplitMix64's finaliser: every bit of the key moves every bit of the result.
    static func mix(_ key: UInt64) -> UInt64 {
        var z = key &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// V = ξ · w[h], rows × columns row-major, from the real weights `real`.
    public func virtualMatrix(of real: [Float]) -> [Float] {
        precondition(real.count == buckets, "WeightHash: \(buckets) real weights, not \(real.count)")
        return [Float](unsafeUninitializedCapacity: codes.count) { v, initialized in
            real.withUnsafeBufferPointer { w in
                codes.withUnsafeBufferPointer { c in
                    for k in 0..<c.count {
                        let code = c[k]
                        v[k] = Float(bitPattern: w[Int(code & WeightHash.bucketBits)].bitPattern ^ (code & WeightHash.signBit))
                    }
                }
            }
            initialized = codes.count
        }
    }

    /// dw[h] += ξ · dV: each bucket gets the sum of its virtual weights'
    /// gradients, in row-major order.
    func scatterAdd(_ virtualGradient: UnsafePointer<Float>, into real: UnsafeMutablePointer<Float>) {
        codes.withUnsafeBufferPointer { c in
            for k in 0..<c.count {
                let code = c[k]
                real[Int(code & WeightHash.bucketBits)] += Float(bitPattern: virtualGradient[k].bitPattern ^ (code & WeightHash.signBit))
            }
        }
    }
}
