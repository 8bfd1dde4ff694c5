import LoomEngine
import XCTest

/// Gradual magnitude pruning during a fit (Zhu and Gupta's cubic schedule),
/// and the epoch snapshot late rewinding returns to.
final class GradualPruningTests: XCTestCase {
    func model(seed: UInt64 = 1) throws -> Sequential {
        let m = try Sequential(name: "m", inputShape: [12], random: RandomGenerator(seed: seed))
        try m.add(.dense(units: 20, activation: .relu))
        try m.add(.dense(units: 10, activation: .relu))
        try m.add(.dense(units: 3, activation: .softmax))
        return m
    }

    func data() -> Dataset {
        var random = RandomGenerator(seed: 4)
        var x = Tensor(zeros: [64, 12])
        for i in 0..<x.count { x[i] = random.nextUnitFloat() * 2 - 1 }
        return Dataset(inputs: x, labels: (0..<64).map { $0 % 3 })
    }

    func fit(_ m: Sequential, epochs: Int, hooks: [any TrainingHook]) -> Trainer.Outcome {
        var random = RandomGenerator(seed: 8)
        return Trainer.fit(m, on: data(), options: FitOptions(epochs: epochs, batchSize: 16, loss: .crossentropy),
                           optimizer: Optimizer(.adam), random: &random, clock: { 0 }, hooks: hooks)
    }

    func zeros(_ p: Parameter) -> Int { p.value.storage.filter { $0 == 0 }.count }

    /// The schedule against the formula worked by hand: s_i at t₀, s_f at
    /// t₀ + nΔt and after, s_f + (s_i − s_f)/8 half way, never falling.
    func testTheCubicScheduleRisesFromItsStartToItsEnd() {
        let s = CubicSparsitySchedule(initial: 0.1, final: 0.9, start: 10, end: 30)
        XCTAssertEqual(s.sparsity(atStep: 0), 0.1)
        XCTAssertEqual(s.sparsity(atStep: 10), 0.1)
        XCTAssertEqual(s.sparsity(atStep: 20), 0.9 + (0.1 - 0.9) * 0.125, accuracy: 1e-12)
        XCTAssertEqual(s.sparsity(atStep: 15), 0.9 - 0.8 * 0.421875, accuracy: 1e-12)
        XCTAssertEqual(s.sparsity(atStep: 30), 0.9)
        XCTAssertEqual(s.sparsity(atStep: 99), 0.9)
        let values = (0...40).map(s.sparsity(atStep:))
        XCTAssertEqual(values, values.sorted(), "monotone")
        // The steps shrink as the end nears.
        XCTAssertGreaterThan(values[12] - values[11], values[29] - values[28])
    }

    /// Per layer, from epoch 2 to 4 of 6: nothing pruned after epoch 1, the
    /// history's sparsity rising to exactly 80% of every kernel at epoch 4,
    /// and the masked weights still zero after two more epochs of training.
    func testPerLayerPruningReachesTheShareExactlyAtItsLastEpochAndHolds() throws {
        let m = try model()
        let kernels = SparseWeights.prunable(m.layers)
        let pruning = GradualPruning(weights: kernels, target: 0.8, firstEpoch: 2, lastEpoch: 4, global: false)
        let outcome = fit(m, epochs: 6, hooks: [pruning])
        let shares = outcome.history.map { $0.sparsity! }
        XCTAssertEqual(shares[0], 0)
        XCTAssertEqual(shares, shares.sorted(), "the sparsity column never falls")
        XCTAssertLessThan(shares[1], shares[2])
        let total = kernels.reduce(0) { $0 + $1.value.count }
        let atTarget = Double(kernels.reduce(0) { $0 + Int((0.8 * Double($1.value.count)).rounded()) }) / Double(total)
        for i in 3..<6 { XCTAssertEqual(shares[i], atTarget) }
        for k in kernels {
            XCTAssertEqual(zeros(k), Int((0.8 * Double(k.value.count)).rounded()), "exactly 80% of \(k.value.shape)")
            let mask = try XCTUnwrap(k.mask)
            XCTAssertTrue(zip(mask, k.value.storage).allSatisfy { $0 == 1 || $1 == 0 }, "masked weights stay zero")
        }
    }

    /// With `global`, one cut over all kernels: exactly 90% of them together,
    /// layers with different shares; every 2 steps instead of each epoch.
    func testGlobalPruningEveryFewStepsReachesTheShareOverAllKernels() throws {
        let m = try model()
        let kernels = SparseWeights.prunable(m.layers)
        let pruning = GradualPruning(weights: kernels, target: 0.9, firstEpoch: 1, lastEpoch: 3, every: 2, global: true)
        let outcome = fit(m, epochs: 3, hooks: [pruning])
        let total = kernels.reduce(0) { $0 + $1.value.count }
        XCTAssertEqual(kernels.reduce(0) { $0 + zeros($1) }, Int((0.9 * Double(total)).rounded()))
        XCTAssertNotEqual(Set(kernels.map { Double(zeros($0)) / Double($0.value.count) }).count, 1, "shares differ per layer")
        let shares = outcome.history.map { $0.sparsity! }
        XCTAssertEqual(shares, shares.sorted())
        XCTAssertGreaterThan(shares[0], 0, "pruned within the first epoch")
    }

    /// The schedule's value at the end of each epoch, per layer: the masked
    /// count after epoch e is round(s(e)·count), s from the cubic formula.
    func testEachEpochsMasksFollowTheCubicSchedule() throws {
        let m = try model()
        let kernels = SparseWeights.prunable(m.layers)
        let pruning = GradualPruning(weights: kernels, target: 0.75, firstEpoch: 1, lastEpoch: 4, global: false)
        final class Counts: TrainingHook {
            let kernel: Parameter
            var counts: [Int] = []
            init(_ kernel: Parameter) { self.kernel = kernel }
            func afterEpoch(_ epoch: Int, record: inout EpochRecord) { counts.append(kernel.value.storage.filter { $0 == 0 }.count) }
        }
        let counts = Counts(kernels[0])
        _ = fit(m, epochs: 4, hooks: [pruning, counts])
        let expected = (1...4).map { e in Int(((0.75 - 0.75 * pow(1 - Double(e) / 4, 3)) * 240).rounded()) }
        XCTAssertEqual(counts.counts, expected)
    }

    /// The snapshots after epochs 1 and 3 of a 4-epoch fit are the weights
    /// of a 1- and a 3-epoch fit from the same start and seed.
    func testTheSnapshotIsTheWeightsAfterItsEpochs() throws {
        let long = try model()
        let snapshot = EpochSnapshot(of: long, afterEpochs: [3, 1])
        _ = fit(long, epochs: 4, hooks: [snapshot])
        XCTAssertEqual(snapshot.kept.map(\.epoch), [1, 3])
        for (epoch, weights) in snapshot.kept {
            let short = try model()
            _ = fit(short, epochs: epoch, hooks: [])
            XCTAssertEqual(weights, short.parameters.map(\.value.storage), "epoch \(epoch)")
            XCTAssertNotEqual(long.parameters.map(\.value.storage), short.parameters.map(\.value.storage))
        }
    }
}
