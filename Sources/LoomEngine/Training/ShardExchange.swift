extension ShardedStep {
    /// Every shard of a step, from the rank that computed it to the others,
    /// in shard order: its gradients (received into the replica that would
    /// have computed it here), its sums and its layers' records
    /// (`Layer.stepRecord`). Each rank then adds and folds in exactly what
    /// one process would.
    func exchange(count: Int, models: [Sequential], parameters: [[Parameter]], results: inout [Result]) {
        for shard in 0..<count {
            let root = shard % ranks.size
            let remote = root != ranks.rank
            for p in parameters[shard] {
                // Sizes a replica's gradients that did not run here.
                if remote { p.zeroGradient() }
                if let pattern = p.sparsePattern, pattern.count > 0 {
                    p.sparseGradient.withUnsafeMutableBytes { ranks.broadcast($0, from: root) }
                }
                if p.sparsePattern == nil || p.keepsDenseGradient {
                    p.gradient.storage.withUnsafeMutableBytes { ranks.broadcast($0, from: root) }
                }
            }
            withUnsafeMutableBytes(of: &results[shard]) { ranks.broadcast($0, from: root) }
            let layers = models[shard].layers
            var records = layers.flatMap(\.stepRecord)
            guard !records.isEmpty else { continue }
            records.withUnsafeMutableBytes { ranks.broadcast($0, from: root) }
            guard remote else { continue }
            var offset = 0
            for layer in layers {
                let n = layer.stepRecord.count
                if n > 0 { layer.stepRecord = Array(records[offset..<(offset + n)]) }
                offset += n
            }
        }
    }
}
