/// Inference through an N:M-pruned dense weight (`prune M 2:4`): each
/// unit's inputs go in blocks of `block` rows, and each block keeps at most
/// `kept` weights, stored packed — the kept values in input order and their
/// rows within the block (a byte each) — so the product does half the work
/// of the dense one at 2:4 with no row numbers to chase across the input.
/// Same sums as the masked dense product up to rounding (the order differs).
struct PackedBlocks {
    let inputs: Int
    let outputs: Int
    let kept: Int
    let block: Int
    /// Blocks per unit: the last one short when `block` does not divide `inputs`.
    let blocks: Int
    /// Unit j's block b holds `values[(j·blocks + b)·kept ..< +kept]`, its
    /// rows within the block in `offsets` alike; a block with fewer than
    /// `kept` weights ends in zeros at row 0. Units are padded with zero
    /// blocks to a multiple of `PackedBlocks.units`.
    let values: [Float]
    let offsets: [UInt8]
    /// The weight's `Parameter.version` this copy was made from.
    let version: Int

    /// Block sizes looked for, smallest first.
    static let blockSizes = [4, 8, 16]
    /// Samples multiplied together (two SIMD16 vectors).
    static let samples = 32
    /// Units multiplied together: independent sums, so the additions overlap.
    static let units = 4
    /// Input rows whose transposed samples stay in L1 while every unit runs over them.
    static let tileRows = 128

    /// The N:M pattern of a masked `weight` (`[inputs, units]`): the first
    /// block size whose every block of every unit holds nonzeros in at most
    /// half its rows, and the most any block holds; nil without a mask or
    /// when no block size fits, as the packed product would not pay. The
    /// values are read, not the mask, so a weight written past its mask is
    /// multiplied as the dense product multiplies it.
    static func pattern(of weight: Parameter) -> (kept: Int, block: Int)? {
        guard weight.mask != nil, weight.value.shape.count == 2 else { return nil }
        let w = weight.value.storage
        let (n, m) = (weight.value.shape[0], weight.value.shape[1])
        var counts = [Int](repeating: 0, count: m)
        sizes: for block in blockSizes {
            var most = 0
            for start in stride(from: 0, to: n, by: block) {
                for u in 0..<m { counts[u] = 0 }
                for row in start..<min(start + block, n) {
                    for u in 0..<m where w[row * m + u] != 0 { counts[u] += 1 }
                }
                most = max(most, counts.max() ?? 0)
                if most * 2 > block { continue sizes }
            }
            return most > 0 ? (most, block) : nil
        }
        return nil
    }

    /// The packed copy of `weight`'s nonzeros in blocks of `block` rows holding at most `kept`.
    init(_ weight: Parameter, kept: Int, block: Int) {
        let (n, m) = (weight.value.shape[0], weight.value.shape[1])
        let blocks = (n + block - 1) / block
        let paddedUnits = (m + PackedBlocks.units - 1) / PackedBlocks.units * PackedBlocks.units
        var values = [Float](repeating: 0, count: paddedUnits * blocks * kept)
        var offsets = [UInt8](repeating: 0, count: values.count)
        weight.value.storage.withUnsafeBufferPointer { w in
            for j in 0..<m {
                for b in 0..<blocks {
                    var slot = (j * blocks + b) * kept
                    for row in b * block..<min(b * block + block, n) where w[row * m + j] != 0 {
                        values[slot] = w[row * m + j]
                        offsets[slot] = UInt8(row - b * block)
                        slot += 1
                    }
                }
            }
        }
        (inputs, outputs, self.kept, self.block, self.blocks) = (n, m, kept, block, blocks)
        (self.values, self.offsets, version) = (values, offsets, weight.version)
    }

    /// out = x·W + bias for `count` rows of x.
    func multiply(_ x: UnsafePointer<Float>, rows count: Int, bias: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        let (n, m, s) = (inputs, outputs, PackedBlocks.samples)
        let paddedUnits = values.count / max(1, blocks * kept)
        // The block's samples side by side: columns[i·s + t] = x[first + t][i]; one more block of rows
        // so a short last block's zero-padded offsets stay inside.
        let columns = UnsafeMutablePointer<Float>.allocate(capacity: (blocks * block) * s)
        // Unit j's running sums for the block's samples: sums[j·s + t].
        let sums = UnsafeMutablePointer<Float>.allocate(capacity: paddedUnits * s)
        defer {
            columns.deallocate()
            sums.deallocate()
        }
        columns.initialize(repeating: 0, count: blocks * block * s)
        let tileBlocks = max(1, PackedBlocks.tileRows / block)
        values.withUnsafeBufferPointer { v in
            offsets.withUnsafeBufferPointer { o in
                for first in stride(from: 0, to: count, by: s) {
                    let lanes = min(s, count - first)
                    if lanes < s { columns.update(repeating: 0, count: n * s) }
                    for t in 0..<lanes { for i in 0..<n { columns[i * s + t] = x[(first + t) * n + i] } }
                    for j in 0..<paddedUnits {
                        let start = Lanes(repeating: j < m ? bias[j] : 0)
                        store(start, sums + j * s)
                        store(start, sums + j * s + 16)
                    }
                    for firstBlock in stride(from: 0, to: blocks, by: tileBlocks) {
                        let lastBlock = min(firstBlock + tileBlocks, blocks)
                        for j in stride(from: 0, to: paddedUnits, by: PackedBlocks.units) {
                            addTile(blocks: firstBlock..<lastBlock, units: j, values: v.baseAddress!, offsets: o.baseAddress!,
                                    columns: columns, sums: sums)
                        }
                    }
                    for t in 0..<lanes { for j in 0..<m { out[(first + t) * m + j] = sums[j * s + t] } }
                }
            }
        }
    }

    typealias Lanes = SIMD16<Float>

    /// Adds four units' kept weights in `range` of blocks times the block's samples into their sums.
    @inline(__always)
    private func addTile(blocks range: Range<Int>, units j: Int, values: UnsafePointer<Float>, offsets: UnsafePointer<UInt8>,
                         columns: UnsafePointer<Float>, sums: UnsafeMutablePointer<Float>) {
        let s = PackedBlocks.samples
        var (a0, b0) = (load(sums + j * s), load(sums + j * s + 16))
        var (a1, b1) = (load(sums + (j + 1) * s), load(sums + (j + 1) * s + 16))
        var (a2, b2) = (load(sums + (j + 2) * s), load(sums + (j + 2) * s + 16))
        var (a3, b3) = (load(sums + (j + 3) * s), load(sums + (j + 3) * s + 16))
        let (base0, base1, base2, base3) = (j * blocks * kept, (j + 1) * blocks * kept, (j + 2) * blocks * kept,
                                            (j + 3) * blocks * kept)
        for b in range {
            let rows = columns + b * block * s
            for k in b * kept..<(b + 1) * kept {
                let x0 = rows + Int(offsets[base0 + k]) * s, w0 = Lanes(repeating: values[base0 + k])
                let x1 = rows + Int(offsets[base1 + k]) * s, w1 = Lanes(repeating: values[base1 + k])
                let x2 = rows + Int(offsets[base2 + k]) * s, w2 = Lanes(repeating: values[base2 + k])
                let x3 = rows + Int(offsets[base3 + k]) * s, w3 = Lanes(repeating: values[base3 + k])
                a0 += w0 * load(x0)
                b0 += w0 * load(x0 + 16)
                a1 += w1 * load(x1)
                b1 += w1 * load(x1 + 16)
                a2 += w2 * load(x2)
                b2 += w2 * load(x2 + 16)
                a3 += w3 * load(x3)
                b3 += w3 * load(x3 + 16)
            }
        }
        store(a0, sums + j * s)
        store(b0, sums + j * s + 16)
        store(a1, sums + (j + 1) * s)
        store(b1, sums + (j + 1) * s + 16)
        store(a2, sums + (j + 2) * s)
        store(b2, sums + (j + 2) * s + 16)
        store(a3, sums + (j + 3) * s)
        store(b3, sums + (j + 3) * s + 16)
    }

    @inline(__always)
    private func load(_ p: UnsafePointer<Float>) -> Lanes { UnsafeRawPointer(p).loadUnaligned(as: Lanes.self) }

    @inline(__always)
    private func store(_ v: Lanes, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: Lanes.self) }
}
