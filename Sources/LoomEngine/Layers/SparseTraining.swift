/// Where a mostly-masked weight `[inputs, outputs]` trains: its unmasked
/// places, by input row and by output column, so the forward product, the
/// input gradient and the weight gradient touch only them (Elsen et al.'s
/// sparse weights and dense activations, for training). Made from the mask,
/// so it changes only when the mask does; the values follow every step
/// (`SparseValues`).
public final class SparsePattern: @unchecked Sendable {
    /// A weight trains through its pattern from this share of masked weights
    /// on (so `sparse 80%`, 79.97% zeros on 784 inputs, does). Measured on one
    /// core (784-2048-2048-10, batch 32, CPU time per epoch against the dense
    /// one's): 0.78× at 71% zeros, 0.64× at 76%, 0.55× at 80%, 0.32× at 90%.
    public static let threshold = 0.75
    /// A full conv2d's kernel trains through its pattern from this share on
    /// (one weight in eight kept; `sparse 90%` of any kernel does): its products are small and `sgemm` runs them
    /// near its peak, while the sparse path blocks the patches twice a step.
    /// Measured on one core (the reference CNN's `conv2d 64 3x3`, CPU time
    /// per epoch against the dense one's): 1.17–1.21× at 80%, 0.97–0.99× at
    /// 90%, 0.90–0.91× at 95%.
    public static let convolutionThreshold = 0.875

    public let inputs: Int
    public let outputs: Int
    /// Flat places `i·outputs + j` of the unmasked weights, ascending (row
    /// order): the order of `Parameter.sparseGradient`.
    public let positions: [Int]
    /// Input i's weights are `rowStart[i] ..< rowStart[i + 1]` of `positions`, their outputs in `rowColumns`.
    let rowStart: [Int]
    let rowColumns: [Int32]
    /// Output j's weights are `columnStart[j] ..< columnStart[j + 1]` in
    /// column order: their inputs in `columnRows`, their places in row order in `rowOrder`.
    let columnStart: [Int]
    let columnRows: [Int32]
    let rowOrder: [Int32]

    /// The pattern of `mask` (0 masked, 1 trained) over a weight `[inputs, outputs]`.
    init(mask: [Float], inputs n: Int, outputs m: Int) {
        var positions: [Int] = [], rowStart = [0], rowColumns: [Int32] = []
        var perColumn = [Int](repeating: 0, count: m + 1)
        for i in 0..<n {
            for j in 0..<m where mask[i * m + j] != 0 {
                positions.append(i * m + j)
                rowColumns.append(Int32(j))
                perColumn[j + 1] += 1
            }
            rowStart.append(positions.count)
        }
        for j in 0..<m { perColumn[j + 1] += perColumn[j] }
        var next = perColumn, columnRows = [Int32](repeating: 0, count: positions.count)
        var rowOrder = [Int32](repeating: 0, count: positions.count)
        for i in 0..<n {
            for k in rowStart[i]..<rowStart[i + 1] {
                let j = Int(rowColumns[k])
                columnRows[next[j]] = Int32(i)
                rowOrder[next[j]] = Int32(k)
                next[j] += 1
            }
        }
        (inputs, outputs, self.positions, self.rowStart, self.rowColumns) = (n, m, positions, rowStart, rowColumns)
        (columnStart, self.columnRows, self.rowOrder) = (perColumn, columnRows, rowOrder)
    }

    public var count: Int { positions.count }
}

/// A weight's unmasked values in its pattern's row and column orders, for
/// one `Parameter.version`: gathered once per step, read by every shard.
final class SparseValues: @unchecked Sendable {
    let pattern: SparsePattern
    let version: Int
    let byRow: [Float]
    let byColumn: [Float]

    init(_ pattern: SparsePattern, weights: [Float], version: Int) {
        let byRow = pattern.positions.map { weights[$0] }
        (self.pattern, self.version, self.byRow) = (pattern, version, byRow)
        byColumn = pattern.rowOrder.map { byRow[Int($0)] }
    }
}

/// The three products of training through a `SparsePattern`, eight samples
/// (one SIMD8 vector) at a time: each sample block is transposed so a
/// weight multiplies eight samples at once. Same sums as the dense products
/// up to rounding (the order differs).
enum SparseProducts {
    typealias Lanes = SIMD8<Float>
    static let lanes = 8

    /// out[s][j] = bias[j] + Σ x[s][i]·W[i][j] for `rows` samples x `[rows, inputs]`.
    static func forward(_ x: UnsafePointer<Float>, rows: Int, values: SparseValues, bias: UnsafePointer<Float>,
                        into out: UnsafeMutablePointer<Float>) {
        let p = values.pattern
        gathered(x, rows: rows, width: p.inputs, start: p.columnStart, index: p.columnRows, values: values.byColumn,
                 outputs: p.outputs, bias: bias, into: out)
    }

    /// dx[s][i] = Σ dy[s][j]·W[i][j] for dy `[rows, outputs]`.
    static func inputGradient(_ dy: UnsafePointer<Float>, rows: Int, values: SparseValues, into dx: UnsafeMutablePointer<Float>) {
        let p = values.pattern
        gathered(dy, rows: rows, width: p.outputs, start: p.rowStart, index: p.rowColumns, values: values.byRow,
                 outputs: p.inputs, bias: nil, into: dx)
    }

    /// gradient[k] += Σ_s x[s][i]·dy[s][j] for the pattern's weight k at (i, j), in row order.
    static func addWeightGradient(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, rows: Int, pattern p: SparsePattern,
                                  into gradient: UnsafeMutablePointer<Float>) {
        forEachBlockProduct(x: x, dy: dy, rows: rows, pattern: p) { k, products in gradient[k] += products.sum() }
    }

    /// The same sums for many rows (a convolution's patches, hundreds per
    /// sample): each weight's products add up lane by lane over all the
    /// blocks and its lanes once at the end; adding eight lanes per block
    /// cost more than the products there.
    static func addWeightGradientOverManyRows(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, rows: Int, pattern p: SparsePattern,
                                              into gradient: UnsafeMutablePointer<Float>) {
        let sums = UnsafeMutablePointer<Lanes>.allocate(capacity: p.count)
        sums.initialize(repeating: Lanes(), count: p.count)
        defer { sums.deallocate() }
        forEachBlockProduct(x: x, dy: dy, rows: rows, pattern: p) { k, products in sums[k] += products }
        for k in 0..<p.count { gradient[k] += sums[k].sum() }
    }

    /// `body(k, x[s][i]·dy[s][j] for the block's samples s)` for the pattern's
    /// weight k at (i, j), block of `lanes` rows after block, k in row order.
    @inline(__always)
    private static func forEachBlockProduct(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, rows: Int, pattern p: SparsePattern,
                                            _ body: (Int, Lanes) -> Void) {
        let (n, m, b) = (p.inputs, p.outputs, lanes)
        let xs = UnsafeMutablePointer<Float>.allocate(capacity: n * b), dys = UnsafeMutablePointer<Float>.allocate(capacity: m * b)
        defer {
            xs.deallocate()
            dys.deallocate()
        }
        p.rowColumns.withUnsafeBufferPointer { columns in
            for first in stride(from: 0, to: rows, by: b) {
                transpose(x + first * n, rows: min(b, rows - first), width: n, into: xs)
                transpose(dy + first * m, rows: min(b, rows - first), width: m, into: dys)
                for i in 0..<n {
                    let xi = Vector.load(xs + i * b)
                    for k in p.rowStart[i]..<p.rowStart[i + 1] { body(k, xi * Vector.load(dys + Int(columns[k]) * b)) }
                }
            }
        }
    }

    /// out[s][c] = bias[c] + Σ_k values[k]·x[s][index[k]] over c's entries
    /// `start[c] ..< start[c + 1]`, for x `[rows, width]` and out `[rows, outputs]`.
    private static func gathered(_ x: UnsafePointer<Float>, rows: Int, width: Int, start: [Int], index: [Int32], values: [Float],
                                 outputs: Int, bias: UnsafePointer<Float>?, into out: UnsafeMutablePointer<Float>) {
        let b = lanes
        let block = UnsafeMutablePointer<Float>.allocate(capacity: width * b), sums = UnsafeMutablePointer<Float>.allocate(capacity: b)
        defer {
            block.deallocate()
            sums.deallocate()
        }
        index.withUnsafeBufferPointer { r in
            values.withUnsafeBufferPointer { v in
                for first in stride(from: 0, to: rows, by: b) {
                    let count = min(b, rows - first)
                    transpose(x + first * width, rows: count, width: width, into: block)
                    for c in 0..<outputs {
                        // Two sums, alternate weights: the additions overlap.
                        var (a0, a1) = (Lanes(repeating: bias?[c] ?? 0), Lanes(repeating: 0))
                        var k = start[c]
                        let end = start[c + 1]
                        while k + 1 < end {
                            a0 += Lanes(repeating: v[k]) * Vector.load(block + Int(r[k]) * b)
                            a1 += Lanes(repeating: v[k + 1]) * Vector.load(block + Int(r[k + 1]) * b)
                            k += 2
                        }
                        if k < end { a0 += Lanes(repeating: v[k]) * Vector.load(block + Int(r[k]) * b) }
                        Vector.store(a0 + a1, sums)
                        for s in 0..<count { out[(first + s) * outputs + c] = sums[s] }
                    }
                }
            }
        }
    }

    /// block[i·lanes + s] = x[s][i] for `rows` (at most `lanes`) rows of
    /// `width`; missing rows are zeros. The samples side by side, so one
    /// vector holds an input of `lanes` samples (the sparse and packed
    /// inference kernels take wider blocks).
    static func transpose(_ x: UnsafePointer<Float>, rows: Int, width: Int, lanes: Int = SparseProducts.lanes,
                          into block: UnsafeMutablePointer<Float>) {
        if rows < lanes { block.update(repeating: 0, count: width * lanes) }
        for s in 0..<rows {
            let row = x + s * width
            for i in 0..<width { block[i * lanes + s] = row[i] }
        }
    }
}
