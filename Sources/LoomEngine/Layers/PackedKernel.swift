/// Inference through an N:M-pruned dense weight (`prune M 2:4`): each
/// unit's inputs go in blocks of `block` rows, and each block keeps at most
/// `kept` weights, stored packed — the kept values and their rows within the
/// block (4 bits each) — so the product does half the multiply-adds of the
/// dense one at 2:4, with no row numbers to chase across the input.
/// Same sums as the masked dense product up to rounding (the order differs).
struct PackedBlocks {
    let inputs: Int
    let outputs: Int
    let kept: Int
    let block: Int
    /// Blocks per unit: the last one short when `block` does not divide `inputs`.
    let blocks: Int
    /// Groups of `PackedBlocks.units` units, the last padded with zero weights.
    let groups: Int
    /// The kept values in the order `multiply` reads them: tile by tile of
    /// `tileRows` input rows, then group by group, block by block, slot by
    /// slot (`kept` a block), the group's four units side by side. A block
    /// with fewer than `kept` weights ends in zeros at row 0.
    let values: [Float]
    /// One code per slot: unit u's row within its block in bits 4u ..< 4u + 4.
    let rows: [UInt16]
    /// The weight's `Parameter.version` this copy was made from.
    let version: Int

    /// Block sizes looked for, smallest first (rows within them fit in 4 bits).
    static let blockSizes = [4, 8, 16]
    /// Samples multiplied together: four SIMD16 vectors, so each kept value
    /// loaded serves four vector multiply-adds.
    static let samples = 64
    /// Units multiplied together: sixteen running sums stay in registers.
    static let units = 4
    /// Input rows whose transposed samples (16 KB) stay in L1 while every group runs over them.
    static let tileRows = 64
    /// Layers with fewer units infer densely: measured on one core (2:4,
    /// 256 samples), 1024→64 ran at 0.95× the dense product, 128→128 at
    /// 1.02×, 256→256 at 1.2×, 1024→1024 at 1.5×.
    static let leastUnits = 128

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
        let (blocks, units) = ((n + block - 1) / block, PackedBlocks.units)
        let groups = (m + units - 1) / units
        var values = [Float](repeating: 0, count: groups * units * blocks * kept)
        var rows = [UInt16](repeating: 0, count: values.count / units)
        var slot = 0
        weight.value.storage.withUnsafeBufferPointer { w in
            for firstBlock in stride(from: 0, to: blocks, by: PackedBlocks.tileBlocks(block)) {
                for group in 0..<groups {
                    for b in firstBlock..<min(firstBlock + PackedBlocks.tileBlocks(block), blocks) {
                        for j in group * units..<min(group * units + units, m) {
                            var k = slot
                            for row in b * block..<min(b * block + block, n) where w[row * m + j] != 0 {
                                values[k * units + j % units] = w[row * m + j]
                                rows[k] |= UInt16(row - b * block) << (4 * (j % units))
                                k += 1
                            }
                        }
                        slot += kept
                    }
                }
            }
        }
        (inputs, outputs, self.kept, self.block, self.blocks, self.groups) = (n, m, kept, block, blocks, groups)
        (self.values, self.rows, version) = (values, rows, weight.version)
    }

    /// Blocks in a tile of `tileRows` input rows.
    private static func tileBlocks(_ block: Int) -> Int { max(1, tileRows / block) }

    typealias Lanes = SIMD16<Float>

    /// out = x·W + bias for `count` rows of x.
    func multiply(_ x: UnsafePointer<Float>, rows count: Int, bias: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        let (n, m, s, units) = (inputs, outputs, PackedBlocks.samples, PackedBlocks.units)
        // The samples side by side (columns[i·s + t] = x[first + t][i]), padded with zero rows to whole
        // blocks; 64-byte aligned, as vector loads that straddle cache lines measured the kernel 1.3× slower.
        let columns = PackedBlocks.aligned(blocks * block * s), sums = PackedBlocks.aligned(groups * units * s)
        defer {
            columns.deallocate()
            sums.deallocate()
        }
        columns.initialize(repeating: 0, count: blocks * block * s)
        let tileBlocks = PackedBlocks.tileBlocks(block)
        values.withUnsafeBufferPointer { v in
            rows.withUnsafeBufferPointer { r in
                for first in stride(from: 0, to: count, by: s) {
                    let lanes = min(s, count - first)
                    SparseProducts.transpose(x + first * n, rows: lanes, width: n, lanes: s, into: columns)
                    // Unit j's running sums for the samples: sums[j·s + t].
                    for j in 0..<groups * units {
                        let start = Lanes(repeating: j < m ? bias[j] : 0)
                        for lane in stride(from: 0, to: s, by: Lanes.scalarCount) { store(start, sums + j * s + lane) }
                    }
                    var slot = 0
                    for firstBlock in stride(from: 0, to: blocks, by: tileBlocks) {
                        let tile = firstBlock..<min(firstBlock + tileBlocks, blocks)
                        for group in 0..<groups {
                            addTile(tile, values: v.baseAddress! + slot * units, rows: r.baseAddress! + slot, columns: columns,
                                    sums: sums + group * units * s)
                            slot += tile.count * kept
                        }
                    }
                    for t in 0..<lanes { for j in 0..<m { out[(first + t) * m + j] = sums[j * s + t] } }
                }
            }
        }
    }

    /// Adds a group's kept weights in `tile` of blocks times the samples into
    /// its four units' sums. Plain multiplies and adds, not fused: on AMD Zen 4
    /// they issue on separate pipes and measured 10% faster than FMA, and a
    /// build for generic x86-64 would turn FMA into `fmaf` calls.
    @inline(__always)
    private func addTile(_ tile: Range<Int>, values: UnsafePointer<Float>, rows: UnsafePointer<UInt16>,
                         columns: UnsafePointer<Float>, sums: UnsafeMutablePointer<Float>) {
        let s = PackedBlocks.samples
        var (a0, b0, c0, d0) = (load(sums), load(sums + 16), load(sums + 32), load(sums + 48))
        var (a1, b1, c1, d1) = (load(sums + s), load(sums + s + 16), load(sums + s + 32), load(sums + s + 48))
        var (a2, b2, c2, d2) = (load(sums + 2 * s), load(sums + 2 * s + 16), load(sums + 2 * s + 32), load(sums + 2 * s + 48))
        var (a3, b3, c3, d3) = (load(sums + 3 * s), load(sums + 3 * s + 16), load(sums + 3 * s + 32), load(sums + 3 * s + 48))
        var slot = 0
        for b in tile {
            let block = columns + b * self.block * s
            for _ in 0..<kept {
                let code = Int(rows[slot]), w = values + slot * 4
                let x0 = block + (code & 15) &* s, w0 = Lanes(repeating: w[0])
                let x1 = block + ((code &>> 4) & 15) &* s, w1 = Lanes(repeating: w[1])
                let x2 = block + ((code &>> 8) & 15) &* s, w2 = Lanes(repeating: w[2])
                let x3 = block + (code &>> 12) &* s, w3 = Lanes(repeating: w[3])
                a0 += w0 * load(x0)
                b0 += w0 * load(x0 + 16)
                c0 += w0 * load(x0 + 32)
                d0 += w0 * load(x0 + 48)
                a1 += w1 * load(x1)
                b1 += w1 * load(x1 + 16)
                c1 += w1 * load(x1 + 32)
                d1 += w1 * load(x1 + 48)
                a2 += w2 * load(x2)
                b2 += w2 * load(x2 + 16)
                c2 += w2 * load(x2 + 32)
                d2 += w2 * load(x2 + 48)
                a3 += w3 * load(x3)
                b3 += w3 * load(x3 + 16)
                c3 += w3 * load(x3 + 32)
                d3 += w3 * load(x3 + 48)
                slot += 1
            }
        }
        store(a0, sums)
        store(b0, sums + 16)
        store(c0, sums + 32)
        store(d0, sums + 48)
        store(a1, sums + s)
        store(b1, sums + s + 16)
        store(c1, sums + s + 32)
        store(d1, sums + s + 48)
        store(a2, sums + 2 * s)
        store(b2, sums + 2 * s + 16)
        store(c2, sums + 2 * s + 32)
        store(d2, sums + 2 * s + 48)
        store(a3, sums + 3 * s)
        store(b3, sums + 3 * s + 16)
        store(c3, sums + 3 * s + 32)
        store(d3, sums + 3 * s + 48)
    }

    /// `count` floats at a 64-byte boundary.
    private static func aligned(_ count: Int) -> UnsafeMutablePointer<Float> {
        UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Float>.size, alignment: 64)
            .bindMemory(to: Float.self, capacity: count)
    }

    @inline(__always)
    private func load(_ p: UnsafePointer<Float>) -> Lanes { UnsafeRawPointer(p).loadUnaligned(as: Lanes.self) }

    @inline(__always)
    private func store(_ v: Lanes, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: Lanes.self) }
}
