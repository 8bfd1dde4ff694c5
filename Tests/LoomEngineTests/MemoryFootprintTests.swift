import LoomEngine
import XCTest

/// What a model holds (`Sequential.heldBytes`) against the bytes its
/// parameters, masks, clusters and hashes take, worked out by hand.
final class MemoryFootprintTests: XCTestCase {
    var random = RandomGenerator(seed: 5)

    /// input 5 → dense1 5 → dense2 5 on dense1's weights → dense3 2: the
    /// shared 5×5 kernel and bias are held once.
    func testASharedLayerHoldsNothingOfItsOwn() throws {
        let model = try Sequential(name: "m", inputShape: [5], random: random)
        try model.add(.dense(units: 5, activation: .tanh))
        try model.add(.dense(units: 5, activation: .tanh), sharing: "dense1")
        try model.add(.dense(units: 2, activation: .linear))
        // dense1: 25 + 5, dense3: 10 + 2 = 42 weights at 16 bytes (value, gradient, two moments).
        XCTAssertEqual(model.heldBytes, 42 * 16)
    }

    /// A clustered kernel also holds each weight's index into its codebook
    /// (4 bytes) and the codebook with its gradient and moments; a mask 4
    /// bytes a weight.
    func testAClusteredKernelCountsItsIndexAndCodebook() throws {
        let model = try Sequential(name: "m", inputShape: [4], random: random)
        try model.add(.dense(units: 5, activation: .relu))
        XCTAssertEqual(model.heldBytes, 25 * 16)
        let kernel = model.parameters[0]
        try WeightClusters.cluster([kernel], count: 3)
        // 25 weights at 16 bytes, 20 indices at 4, 3 shared values at 16.
        XCTAssertEqual(model.heldBytes, 25 * 16 + 20 * 4 + 3 * 16)
        try kernel.setMask([Float](repeating: 1, count: 19) + [0])
        XCTAssertEqual(model.heldBytes, 25 * 16 + 20 * 4 + 3 * 16 + 20 * 4)
    }

    /// A hashed layer holds its real weights and bias as weights, and its
    /// hash and virtual matrix at 8 bytes a virtual weight; its line, checked
    /// before it is built, asks for the same (not 16 bytes a virtual weight).
    func testAHashedLayerCountsItsHashAndVirtualMatrix() throws {
        let model = try Sequential(name: "m", inputShape: [6], random: random)
        let spec = DenseSpec(units: 4, activation: .relu, hashed: 7)
        XCTAssertEqual(try spec.parameterCount(input: [6]), 7 + 4)
        XCTAssertEqual(try spec.heldBytes(input: [6]), (7 + 4) * 16 + 24 * 8)
        try model.add(spec)
        XCTAssertEqual(model.heldBytes, (7 + 4) * 16 + 24 * 8)
        // On a sequence of 5 steps of 6 features: the same matrix for every step.
        XCTAssertEqual(try spec.heldBytes(input: [5, 6]), (7 + 4) * 16 + 24 * 8)
    }

    /// A hashed line sharing another's real weights stores none of its own,
    /// only its codes and virtual matrix.
    func testAHashedLineSharingRealWeightsHoldsOnlyItsCodesAndVirtualMatrix() throws {
        let model = try Sequential(name: "m", inputShape: [6], random: random)
        try model.add(DenseSpec(units: 6, activation: .relu, hashed: 7))
        try model.add(DenseSpec(units: 6, activation: .relu, hashed: 7), sharing: "dense1")
        XCTAssertEqual(model.parameterCount, 7 + 6)
        XCTAssertEqual(model.heldBytes, (7 + 6) * 16 + 2 * 36 * 8)
    }

    /// dense 10 → 8 with one input per unit kept (90% zeros): trained
    /// through its pattern, the weight also holds 8 places (8 bytes), their
    /// columns, rows and row order (4 each), 11 row and 9 column starts (8
    /// each), the values by row and by column (4 each) and the sparse
    /// gradient (4); trained densely under the same mask, none of it.
    func testASparselyTrainedWeightCountsItsPatternValuesAndSparseGradient() throws {
        let model = try Sequential(name: "m", inputShape: [10], random: random)
        try model.add(.dense(units: 8, activation: .relu))
        let kernel = model.parameters[0]
        try kernel.setMask((0..<80).map { $0 / 8 == $0 % 8 ? 1 : 0 })
        XCTAssertEqual(kernel.sparsePattern?.count, 8)
        let dense = 88 * 16 + 80 * 4
        XCTAssertEqual(model.heldBytes, dense + 8 * (8 + 3 * 4 + 2 * 4 + 4) + (11 + 9) * 8)
        kernel.trainsSparsely = false
        XCTAssertNil(kernel.sparsePattern)
        XCTAssertEqual(model.heldBytes, dense)
    }

    /// A step of four shards (batch 32) through the same pattern adds three
    /// replicas' sparse gradients, the next version's values, and in each
    /// shard the blocks of eight samples of the 10 inputs and 8 outputs
    /// (and one more row): 4·32·19 bytes.
    func testASparseStepCountsTheReplicasGradientsTheNextValuesAndEachShardsBlocks() throws {
        let model = try Sequential(name: "m", inputShape: [10], random: random)
        try model.add(.dense(units: 8, activation: .relu))
        let kernel = model.parameters[0]
        try kernel.setMask((0..<80).map { $0 / 8 == $0 % 8 ? 1 : 0 })
        let sparse = Trainer.batchBytes(model, batchSize: 32, ranks: SingleProcess())
        kernel.trainsSparsely = false
        XCTAssertEqual(sparse - Trainer.batchBytes(model, batchSize: 32, ranks: SingleProcess()),
                       3 * 8 * 4 + 8 * 8 + 4 * 8 * 4 * (10 + 8 + 1))
    }

    /// conv2d 8 3x3 with one tap per filter (88.9% zeros) trains through its
    /// pattern: 9 patch values in, 8 filters out, and over the patches each
    /// shard also keeps eight lane sums (32 bytes) a nonzero.
    func testASparseConvolutionAlsoCountsEachShardsLaneSums() throws {
        let model = try Sequential(name: "m", inputShape: [6, 6, 1], random: random)
        try model.add(.conv2d(filters: 8, kernel: (3, 3), activation: .relu, stride: 1, padding: .valid))
        let kernel = model.parameters[0]
        try kernel.setMask((0..<72).map { $0 / 8 == $0 % 8 ? 1 : 0 })
        XCTAssertEqual(kernel.sparsePattern?.count, 8)
        let sparse = Trainer.batchBytes(model, batchSize: 32, ranks: SingleProcess())
        kernel.trainsSparsely = false
        XCTAssertEqual(sparse - Trainer.batchBytes(model, batchSize: 32, ranks: SingleProcess()),
                       3 * 8 * 4 + 8 * 8 + 4 * (8 * 4 * (9 + 8 + 1) + 8 * 32))
    }

    /// A training batch: each of the four shards of a batch of 32 makes a
    /// hashed layer's whole virtual gradient; the replicas hold gradients
    /// of its real weights, not of the virtual ones.
    func testEachShardOfAHashedLayerMakesItsVirtualGradient() throws {
        let hashed = try Sequential(name: "m", inputShape: [6], random: random)
        try hashed.add(DenseSpec(units: 4, activation: .linear, hashed: 7))
        let dense = try Sequential(name: "m", inputShape: [6], random: random)
        try dense.add(DenseSpec(units: 4, activation: .linear))
        // Three replicas' gradients of 11 weights against 28, and four 24-float virtual gradients.
        XCTAssertEqual(Trainer.batchBytes(hashed, batchSize: 32) - Trainer.batchBytes(dense, batchSize: 32),
                       3 * (11 - 28) * 4 + 4 * 24 * 4)
    }

    /// input 10 → dense 8 → kwta 2 → dense 3 softmax: 115 weights.
    func winnersModel() throws -> Sequential {
        let model = try Sequential(name: "m", inputShape: [10], random: random)
        try model.add(.dense(units: 8, activation: .relu))
        try model.add(KWinnersSpec(k: .units(2), boost: 1))
        try model.add(.dense(units: 3, activation: .softmax))
        return model
    }

    /// Under two ranks a step of four shards gathers every shard's 115
    /// gradients (4 bytes each), its sums (four doubles and a count) and
    /// k-winners' record (the batch and 8 units' wins, 8 bytes each) on
    /// every rank, beside the two shards this rank packed; one rank, or a
    /// step of one shard, exchanges nothing.
    func testAStepUnderSeveralRanksCountsTheShardsItHandsOver() throws {
        let model = try winnersModel()
        let shard = 115 * 4 + 5 * 8 + 9 * 8
        func extra(batch: Int, ranks: Int) -> Int {
            Trainer.batchBytes(model, batchSize: batch, ranks: ThreadRanks.Rank(0, of: ThreadRanks(size: ranks)))
                - Trainer.batchBytes(model, batchSize: batch, ranks: SingleProcess())
        }
        XCTAssertEqual(extra(batch: 32, ranks: 2), (4 + 2) * shard)
        XCTAssertEqual(extra(batch: 32, ranks: 3), (4 + 2) * shard)
        XCTAssertEqual(extra(batch: 32, ranks: 4), (4 + 1) * shard)
        XCTAssertEqual(extra(batch: 8, ranks: 2), 0)
        XCTAssertEqual(extra(batch: 32, ranks: 1), 0)
    }

    /// An inference batch of 16 on each of N ranks: every rank copies the
    /// run's 16·N inputs (10 floats) and gathers its 16·N outputs (3 floats,
    /// and as many for the loss), beside its own batch's copy and outputs.
    func testAnInferenceBatchUnderSeveralRanksCountsTheGatheredRun() throws {
        let model = try winnersModel()
        let one = model.inferenceBytes(samples: 16, ranks: SingleProcess())
        for size in [2, 3] {
            let ranks = ThreadRanks.Rank(0, of: ThreadRanks(size: size))
            XCTAssertEqual(model.inferenceBytes(samples: 16, ranks: ranks) - one,
                           16 * (size - 1) * (10 * 4 + 3 * 8) + 16 * (10 * 4 + 3 * 4))
            let perSample = model.inferenceBytes(samples: 1, ranks: ranks)
            XCTAssertEqual(model.inferenceBatch(fitting: 10 * perSample + perSample - 1, ranks: ranks), 10)
        }
        // Validation after each epoch runs such batches too.
        let ranks = ThreadRanks.Rank(0, of: ThreadRanks(size: 2))
        XCTAssertEqual(Trainer.batchBytes(model, batchSize: 8, validationSamples: 100, ranks: ranks)
                           - Trainer.batchBytes(model, batchSize: 8, validationSamples: 100, ranks: SingleProcess()),
                       100 * (10 * 4 + 3 * 8) + 100 * (10 * 4 + 3 * 4))
    }

    /// `predict` over 1,000 samples on two ranks holds its own run of
    /// batches (3 outputs each) beside the gathered outputs: at most 500
    /// samples and a batch, whatever the batch; rank r's run is batches
    /// ⌊B·r/N⌋ ..< ⌊B·(r+1)/N⌋ of the B batches. Nothing in one process.
    func testPredictUnderSeveralRanksCountsEachRanksRunOfOutputs() throws {
        let model = try winnersModel()
        XCTAssertEqual(model.ownRunBytes(samples: 1000, ranks: SingleProcess()), 0)
        for size in [2, 3, 8] {
            let bound = model.ownRunBytes(samples: 1000, ranks: ThreadRanks.Rank(0, of: ThreadRanks(size: size)))
            XCTAssertEqual(bound, (1000 / size + 1 + 256) * 3 * 4)
            for batch in 1...Sequential.inferenceBatch {
                let batches = (1000 + batch - 1) / batch
                for r in 0..<size {
                    let run = min(1000, batch * (batches * (r + 1) / size)) - min(1000, batch * (batches * r / size))
                    XCTAssertLessThanOrEqual(run * 3 * 4, bound, "\(size) ranks, batch \(batch), rank \(r)")
                }
            }
        }
        XCTAssertEqual(model.ownRunBytes(samples: 100, ranks: ThreadRanks.Rank(0, of: ThreadRanks(size: 2))), 100 * 3 * 4)
    }
}
