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
    /// hash and virtual matrix at 8 bytes a virtual weight.
    func testAHashedLayerCountsItsHashAndVirtualMatrix() throws {
        let model = try Sequential(name: "m", inputShape: [6], random: random)
        try model.add(DenseSpec(units: 4, activation: .relu, hashed: 7))
        XCTAssertEqual(model.heldBytes, (7 + 4) * 16 + 24 * 8)
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
}
