extension ShardedStep {
    /// Every shard of a step, from the rank that computed it to the others,
    /// in one exchange: each rank packs the shards it computed (gradients
    /// dense and sparse, sums, its layers' `Layer.stepRecord`) into one
    /// buffer, the ranks gather every buffer, and each rank unpacks the
    /// others' shards into the replicas that would have computed them here.
    /// Each rank then adds and folds in exactly what one process would.
    func exchange(count: Int, models: [Sequential], parameters: [[Parameter]], results: inout [Result]) {
        for shard in 0..<count where !ranks.computes(shard: shard, of: count) {
            // Sizes a replica's gradients that did not run here.
            for p in parameters[shard] { p.zeroGradient() }
        }
        // The same sizes on every rank: shapes, patterns and records are.
        let sizes = (0..<count).map { ShardedStep.bytes(parameters[$0], models[$0].layers) }
        var counts = [Int](repeating: 0, count: ranks.size)
        for shard in 0..<count { counts[shard % ranks.size] += sizes[shard] }
        var mine = [UInt8](repeating: 0, count: counts[ranks.rank])
        var offset = 0
        for shard in stride(from: ranks.rank, to: count, by: ranks.size) {
            mine.withUnsafeMutableBytes { offset = ShardedStep.pack(parameters[shard], &results[shard], models[shard].layers,
                                                                    into: $0, at: offset) }
        }
        var all = [UInt8](repeating: 0, count: counts.reduce(0, +))
        mine.withUnsafeBytes { m in all.withUnsafeMutableBytes { ranks.allgather(m, into: $0, counts: counts) } }
        // Rank r's part holds shards r, r + size, … one after another.
        var next = counts.reduce(into: [0]) { $0.append($0.last! + $1) }
        for shard in 0..<count {
            let root = shard % ranks.size
            if root != ranks.rank {
                all.withUnsafeBytes { ShardedStep.unpack(from: $0, at: next[root], parameters[shard], &results[shard],
                                                         models[shard].layers) }
            }
            next[root] += sizes[shard]
        }
    }

    /// The bytes one shard hands over.
    private static func bytes(_ parameters: [Parameter], _ layers: [Layer]) -> Int {
        var n = MemoryLayout<Result>.size + layers.reduce(0) { $0 + $1.stepRecord.count } * MemoryLayout<Int>.size
        for p in parameters {
            if let pattern = p.sparsePattern, pattern.count > 0 { n += p.sparseGradient.count * MemoryLayout<Float>.size }
            if p.sparsePattern == nil || p.keepsDenseGradient { n += p.gradient.storage.count * MemoryLayout<Float>.size }
        }
        return n
    }

    /// Writes one shard at `offset` of `buffer`; returns where it ends.
    private static func pack(_ parameters: [Parameter], _ result: inout Result, _ layers: [Layer],
                             into buffer: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        var at = offset
        func put(_ bytes: UnsafeRawBufferPointer) {
            UnsafeMutableRawBufferPointer(rebasing: buffer[at..<(at + bytes.count)]).copyMemory(from: bytes)
            at += bytes.count
        }
        for p in parameters {
            if let pattern = p.sparsePattern, pattern.count > 0 { p.sparseGradient.withUnsafeBytes(put) }
            if p.sparsePattern == nil || p.keepsDenseGradient { p.gradient.storage.withUnsafeBytes(put) }
        }
        withUnsafeBytes(of: &result, put)
        for layer in layers where !layer.stepRecord.isEmpty { layer.stepRecord.withUnsafeBytes(put) }
        return at
    }

    /// Reads one shard written by `pack` into its replica's gradients, its
    /// sums and its layers' records.
    private static func unpack(from buffer: UnsafeRawBufferPointer, at offset: Int, _ parameters: [Parameter],
                               _ result: inout Result, _ layers: [Layer]) {
        var at = offset
        func take(_ bytes: UnsafeMutableRawBufferPointer) {
            bytes.copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[at..<(at + bytes.count)]))
            at += bytes.count
        }
        for p in parameters {
            if let pattern = p.sparsePattern, pattern.count > 0 { p.sparseGradient.withUnsafeMutableBytes(take) }
            if p.sparsePattern == nil || p.keepsDenseGradient { p.gradient.storage.withUnsafeMutableBytes(take) }
        }
        withUnsafeMutableBytes(of: &result, take)
        for layer in layers {
            var record = layer.stepRecord
            guard !record.isEmpty else { continue }
            record.withUnsafeMutableBytes(take)
            layer.stepRecord = record
        }
    }
}
