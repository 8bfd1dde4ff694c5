/// Inference through a mostly-zero dense weight (pruned or `sparse`),
/// touching only its nonzeros: the weight `[inputs, outputs]` kept column by
/// column (each output's nonzero inputs and values), and eight samples at a
/// time, so each nonzero is one vector multiply-add over eight samples
/// ("Fast Sparse ConvNets", Elsen et al.: sparse weights, dense activations).
/// Same sums as the dense product up to rounding (the order differs).
struct SparseColumns {
    let inputs: Int
    let outputs: Int
    /// Column j's nonzeros are `rows[start[j] ..< start[j + 1]]` with `values` alike.
    let start: [Int]
    let rows: [Int32]
    let values: [Float]
    /// The weight's `Parameter.version` this copy was made from.
    let version: Int

    /// The copy of `weight`, or with `transposed` of its transpose (a
    /// weight stored `[outputs, inputs]`: a dense layer tied to another's kernel).
    init(_ weight: Parameter, transposed: Bool = false) {
        let (n, m) = transposed ? (weight.value.shape[1], weight.value.shape[0]) : (weight.value.shape[0], weight.value.shape[1])
        // Where input i's weight for output j is stored.
        let (inputStride, outputStride) = transposed ? (1, n) : (m, 1)
        var start = [0], rows: [Int32] = [], values: [Float] = []
        weight.value.storage.withUnsafeBufferPointer { w in
            for j in 0..<m {
                for i in 0..<n where w[i * inputStride + j * outputStride] != 0 {
                    rows.append(Int32(i))
                    values.append(w[i * inputStride + j * outputStride])
                }
                start.append(rows.count)
            }
        }
        (inputs, outputs, self.start, self.rows, self.values, version) = (n, m, start, rows, values, weight.version)
    }

    /// Samples multiplied together: each nonzero is loaded once per block.
    static let block = 32

    /// out = x·W + bias for `count` rows of x.
    func multiply(_ x: UnsafePointer<Float>, rows count: Int, bias: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        typealias Lanes = SIMD8<Float>
        let (n, m, b) = (inputs, outputs, SparseColumns.block)
        let block = UnsafeMutablePointer<Float>.allocate(capacity: n * b), sums = UnsafeMutablePointer<Float>.allocate(capacity: m * b)
        defer {
            block.deallocate()
            sums.deallocate()
        }
        rows.withUnsafeBufferPointer { r in
            values.withUnsafeBufferPointer { v in
                for first in stride(from: 0, to: count, by: b) {
                    let lanes = min(b, count - first)
                    SparseProducts.transpose(x + first * n, rows: lanes, width: n, lanes: b, into: block)
                    for j in 0..<m {
                        let start = bias[j]
                        var (a0, a1, a2, a3) = (Lanes(repeating: start), Lanes(repeating: start), Lanes(repeating: start),
                                                Lanes(repeating: start))
                        for k in self.start[j]..<self.start[j + 1] {
                            let w = Lanes(repeating: v[k]), row = block + Int(r[k]) * b
                            a0 += w * Vector.load(row)
                            a1 += w * Vector.load(row + 8)
                            a2 += w * Vector.load(row + 16)
                            a3 += w * Vector.load(row + 24)
                        }
                        // Column j's sums for the block, side by side: sums[j·b + s].
                        Vector.store(a0, sums + j * b)
                        Vector.store(a1, sums + j * b + 8)
                        Vector.store(a2, sums + j * b + 16)
                        Vector.store(a3, sums + j * b + 24)
                    }
                    for s in 0..<lanes { for j in 0..<m { out[(first + s) * m + j] = sums[j * b + s] } }
                }
            }
        }
    }
}
