import LoomEngine
import XCTest

/// Dynamic sparse training (SET, RigL) and ERK densities.
final class RewiringTests: XCTestCase {
    private func parameter(_ values: [Float], mask: [Float], gradient: [Float]) throws -> Parameter {
        let p = Parameter(name: "kernel", value: Tensor(shape: [2, values.count / 2], storage: values))
        try p.setMask(mask)
        p.gradient = Tensor(shape: p.value.shape, storage: gradient)
        return p
    }

    /// RigL drops the active weights of smallest magnitude and grows the
    /// inactive ones of largest gradient magnitude (equal ones: lower index).
    func testRigLRegrowsExactlyTheLargestGradientInactiveWeights() throws {
        let p = try parameter([0.5, -0.1, 0.3, 0, 0.2, 0, 0, 0], mask: [1, 1, 1, 0, 1, 0, 0, 0],
                              gradient: [9, 9, 9, -0.4, 9, 0.9, -0.9, 0.1])
        var random = RandomGenerator(seed: 1)
        // Half of the four active: -0.1 and 0.2 go; 0.9 and -0.9 (tied, so indices 5 and 6 in order) come.
        XCTAssertEqual(Rewiring(.rigl).rewire(p, share: 0.5, random: &random), 4)
        XCTAssertEqual(p.mask, [1, 0, 1, 0, 0, 1, 1, 0])
        XCTAssertEqual(p.value.storage, [0.5, 0, 0.3, 0, 0, 0, 0, 0], "dropped weights zero, grown ones start at zero")
        // One of four: 0.2 is the smallest active.
        let q = try parameter([0.5, 0, 0.3, 0, 0.2, 0, 0, 0.7], mask: [1, 0, 1, 0, 1, 0, 0, 1],
                              gradient: [0, -0.3, 0, 0.3, 0, 0.2, 0.1, 0])
        XCTAssertEqual(Rewiring(.rigl).rewire(q, share: 0.25, random: &random), 2)
        XCTAssertEqual(q.mask, [1, 1, 1, 0, 0, 0, 0, 1], "0.2 dropped; of the tied -0.3 and 0.3 the lower index grows")
    }

    /// SET moves as many as RigL would, growing only where the mask was zero.
    func testSETGrowsAtRandomAmongTheInactive() throws {
        var random = RandomGenerator(seed: 4)
        var mask = [Float](repeating: 0, count: 200)
        for i in stride(from: 0, to: 200, by: 10) { mask[i] = 1 }
        var values = [Float](repeating: 0, count: 200)
        for i in stride(from: 0, to: 200, by: 10) { values[i] = Float(i + 1) }
        let p = try parameter(values, mask: mask, gradient: [Float](repeating: 0, count: 200))
        XCTAssertEqual(Rewiring(.set).rewire(p, share: 0.3, random: &random), 12)
        let after = try XCTUnwrap(p.mask)
        XCTAssertEqual(after.filter { $0 != 0 }.count, 20)
        // The six smallest (1, 11, …, 51) went; six grew where there was none.
        for i in stride(from: 0, to: 60, by: 10) { XCTAssertEqual(after[i], 0) }
        for i in stride(from: 60, to: 200, by: 10) { XCTAssertEqual(after[i], 1) }
        XCTAssertEqual((0..<200).filter { after[$0] != 0 && mask[$0] == 0 }.count, 6)
    }

    /// Over a whole fit, after every step, each weight keeps exactly its
    /// number of nonzeros while the masks move; the history counts the moves.
    func testSparsityStaysExactWhileMasksMove() throws {
        var random = RandomGenerator(seed: 3)
        var x = Tensor(zeros: [64, 30])
        for i in 0..<x.count { x[i] = random.nextUnitFloat() }
        let data = Dataset(inputs: x, labels: (0..<64).map { $0 % 3 })
        for method in Rewiring.Method.allCases {
            let model = try Sequential(name: "m", inputShape: [30], random: RandomGenerator(seed: 5))
            try model.add(DenseSpec(units: 50, activation: .relu, sparsity: 0.9))
            try model.add(DenseSpec(units: 3, activation: .softmax, sparsity: 0.5))
            let weights = SparseWeights.prunable(model.layers)
            let counts = weights.map { $0.mask!.filter { $0 != 0 }.count }
            var masks = weights.map { $0.mask! }, changed = 0
            var options = FitOptions(epochs: 3, batchSize: 16, loss: .crossentropy)
            options.rewiring = Rewiring(method, every: 2, fraction: 0.4)
            let outcome = Trainer.fit(model, on: data, options: options, optimizer: Optimizer(.adam), random: &random,
                                      clock: { 0 }, progress: { _ in
                for (w, count) in zip(weights, counts) {
                    XCTAssertEqual(w.mask!.filter { $0 != 0 }.count, count, "\(method)")
                    XCTAssertEqual(w.value.zeroCount >= w.value.count - count, true, "masked weights stay zero")
                }
                for (i, w) in weights.enumerated() {
                    changed += zip(w.mask!, masks[i]).filter { $0 != $1 }.count
                    masks[i] = w.mask!
                }
            })
            XCTAssertGreaterThan(changed, 0, "\(method): the masks moved")
            XCTAssertEqual(outcome.history.reduce(0) { $0 + $1.maskChanges! }, changed, "\(method)")
        }
    }

    /// RigL's fraction follows f/2·(1 + cos(πt/T)); SET's stays f.
    func testRigLFractionDecaysAlongACosine() {
        let rigl = Rewiring(.rigl, every: 10, fraction: 0.4)
        XCTAssertEqual(rigl.fraction(atStep: 0, of: 100), 0.4, accuracy: 1e-12)
        XCTAssertEqual(rigl.fraction(atStep: 50, of: 100), 0.2, accuracy: 1e-12)
        XCTAssertEqual(rigl.fraction(atStep: 100, of: 100), 0, accuracy: 1e-12)
        XCTAssertEqual(Rewiring(.set, fraction: 0.4).fraction(atStep: 50, of: 100), 0.4)
        XCTAssertEqual((1...100).filter { rigl.rewires(atStep: $0, of: 100) }, [10, 20, 30, 40, 50, 60, 70, 80, 90])
    }

    /// ERK on 784-300-100-10 at 90%: the output layer would need more than
    /// all its weights, so it is dense; then ε = (0.1·(235,200 + 30,000) −
    /// 0.9·1,000) / (1,084 + 400) spreads the rest by (n_in + n_out)/(n_in·n_out).
    func testERKDensitiesMatchTheHandComputedOnes() {
        let densities = SparseWeights.erkDensities(shapes: [[784, 300], [300, 100], [100, 10]], sparsity: 0.9)
        let epsilon = 25_620.0 / 1_484.0
        XCTAssertEqual(densities[0], epsilon * 1_084 / 235_200, accuracy: 1e-12)
        XCTAssertEqual(densities[1], epsilon * 400 / 30_000, accuracy: 1e-12)
        XCTAssertEqual(densities[2], 1)
        let kept = densities[0] * 235_200 + densities[1] * 30_000 + densities[2] * 1_000
        XCTAssertEqual(kept, 0.1 * 266_200, accuracy: 1e-6, "the overall sparsity is the asked one")
        // A convolution's kernel counts its window: (3 + 3 + 16 + 32) / (3·3·16·32) against a dense layer's.
        let mixed = SparseWeights.erkDensities(shapes: [[3, 3, 16, 32], [512, 64]], sparsity: 0.8)
        XCTAssertEqual(mixed[0] / mixed[1], (54.0 / 4_608) / (576.0 / 32_768), accuracy: 1e-12)
    }

    /// `sparse P% erk` layers of one model get their ERK densities.
    func testERKLayersGetTheirDensities() throws {
        let model = try Sequential(name: "m", inputShape: [784], random: RandomGenerator(seed: 2))
        try model.add(DenseSpec(units: 300, activation: .relu, sparsity: 0.9, erk: true))
        try model.add(DenseSpec(units: 100, activation: .relu, sparsity: 0.9, erk: true))
        try model.add(DenseSpec(units: 10, activation: .softmax, sparsity: 0.9, erk: true))
        try model.spreadSparsityByERK()
        let densities = SparseWeights.erkDensities(shapes: [[784, 300], [300, 100], [100, 10]], sparsity: 0.9)
        for (weight, density) in zip(SparseWeights.prunable(model.layers), densities) {
            let kept = Double(weight.mask!.filter { $0 != 0 }.count) / Double(weight.value.count)
            // Every unit keeps the same number of inputs, rounded.
            XCTAssertEqual(kept, density, accuracy: 0.5 / Double(weight.value.shape[0]))
        }
    }

    /// After `prune 2:4`, SET and RigL move weights within each block of
    /// four inputs: after every step every block holds exactly two, dense and
    /// conv2d alike, while the masks move.
    func testRewiringKeepsAnNMPatternExactWhileTheMasksMove() throws {
        var random = RandomGenerator(seed: 8)
        var x = Tensor(zeros: [48, 6, 6, 4])
        for i in 0..<x.count { x[i] = random.nextUnitFloat() }
        let data = Dataset(inputs: x, labels: (0..<48).map { $0 % 3 })
        for method in Rewiring.Method.allCases {
            let model = try Sequential(name: "m", inputShape: [6, 6, 4], random: RandomGenerator(seed: 5))
            try model.add(Conv2DSpec(filters: 6, kernel: Window(3, 3), activation: .relu, stride: 1, padding: .valid))
            try model.add(FlattenSpec())
            try model.add(DenseSpec(units: 20, activation: .relu))
            try model.add(DenseSpec(units: 3, activation: .softmax))
            let weights = SparseWeights.prunable(model.layers)
            SparseWeights.prune(weights, keeping: 2, of: 4)
            XCTAssertEqual(weights.map(\.blockPattern), [BlockPattern(kept: 2, block: 4), BlockPattern(kept: 2, block: 4),
                                                           BlockPattern(kept: 2, block: 4)])
            let first = weights.map { $0.mask! }
            var options = FitOptions(epochs: 3, batchSize: 8, loss: .crossentropy)
            options.rewiring = Rewiring(method, every: 2, fraction: 0.5)
            var checks = 0
            _ = Trainer.fit(model, on: data, options: options, optimizer: Optimizer(.adam), random: &random,
                            clock: { 0 }, progress: { _ in
                for w in weights {
                    let units = w.value.shape.last!
                    XCTAssertEqual(Set(blockCounts(w.mask!, units: units, block: 4)), [2], "\(method): 2 of every 4")
                    XCTAssertTrue(zip(w.mask!, w.value.storage).allSatisfy { $0 != 0 || $1 == 0 }, "\(method): masked weights stay zero")
                    checks += 1
                }
            })
            XCTAssertEqual(checks, 3 * 6 * weights.count)
            for (w, mask) in zip(weights, first) {
                XCTAssertNotEqual(w.mask!, mask, "\(method): the mask of \(w.name) moved")
                XCTAssertEqual(w.blockPattern, BlockPattern(kept: 2, block: 4), "\(method): the pattern is still recorded")
            }
        }
    }

    /// Within a block RigL grows the empty place of largest gradient; a
    /// block whose picked weights outnumber its empty places drops only its
    /// smallest (3:4 leaves one place empty).
    func testNMRewiringMovesWithinEachBlock() throws {
        // Four rows, two units: unit 0's block holds rows 0-3 at places 0, 2, 4, 6.
        let p = Parameter(name: "kernel", value: Tensor(shape: [4, 2], storage: [0.1, 0.9, 0.2, 0.8, 0.3, 0.7, 0, 0]))
        try p.setMask([1, 1, 1, 1, 1, 1, 0, 0], blockPattern: BlockPattern(kept: 3, block: 4))
        p.gradient = Tensor(shape: [4, 2], storage: [0, 0, 0, 0, 0, 0, 5, 6])
        var random = RandomGenerator(seed: 1)
        // A share of 0.5 picks the three smallest (0.1, 0.2, 0.3, all unit 0); its block has one empty place.
        XCTAssertEqual(Rewiring(.rigl).rewire(p, share: 0.5, random: &random), 2)
        XCTAssertEqual(p.mask, [0, 1, 1, 1, 1, 1, 1, 0], "0.1 goes, place 6 (unit 0, row 3) grows; unit 1 cannot move")
        XCTAssertEqual(p.blockPattern, BlockPattern(kept: 3, block: 4))
    }

    /// The pattern is saved with the weights and read back; a file saved
    /// before patterns were kept (no `.nm`) loads without one.
    func testTheNMPatternIsSavedAndLoaded() throws {
        func model() throws -> Sequential {
            let m = try Sequential(name: "m", inputShape: [8], random: RandomGenerator(seed: 3))
            try m.add(DenseSpec(units: 4, activation: .softmax))
            return m
        }
        let saved = try model()
        SparseWeights.prune(SparseWeights.prunable(saved.layers), keeping: 1, of: 4)
        let tensors = Dictionary(saved.weightTensors, uniquingKeysWith: { a, _ in a })
        let key = saved.namedParameters[0].name + ".nm"
        XCTAssertEqual(tensors[key]?.storage, [1, 4])
        let loaded = try model()
        try loaded.load(weights: tensors, source: "file")
        XCTAssertEqual(SparseWeights.prunable(loaded.layers)[0].blockPattern, BlockPattern(kept: 1, block: 4))
        let older = try model()
        try older.load(weights: tensors.filter { $0.key != key }, source: "file")
        XCTAssertNotNil(SparseWeights.prunable(older.layers)[0].mask)
        XCTAssertNil(SparseWeights.prunable(older.layers)[0].blockPattern)
        var bad = tensors
        bad[key] = Tensor(shape: [2], storage: [4, 4])
        XCTAssertThrowsError(try model().load(weights: bad, source: "file"))
        // Any other mask drops the pattern.
        SparseWeights.prune(SparseWeights.prunable(saved.layers), fraction: 0.9, global: false)
        XCTAssertNil(SparseWeights.prunable(saved.layers)[0].blockPattern)
    }

    /// Any other mask drops the pattern: a later `prune P%` leaves no N:M to keep.
    func testAnotherMaskDropsTheNMPattern() throws {
        let saved = try Sequential(name: "m", inputShape: [8], random: RandomGenerator(seed: 3))
        try saved.add(DenseSpec(units: 4, activation: .softmax))
        SparseWeights.prune(SparseWeights.prunable(saved.layers), keeping: 1, of: 4)
        XCTAssertEqual(SparseWeights.prunable(saved.layers)[0].blockPattern, BlockPattern(kept: 1, block: 4))
        // Any other mask drops the pattern.
        SparseWeights.prune(SparseWeights.prunable(saved.layers), fraction: 0.9, global: false)
        XCTAssertNil(SparseWeights.prunable(saved.layers)[0].blockPattern)
    }
}

/// The nonzeros of every block of `block` consecutive inputs of each unit
/// of a weight `[fan-in, units]` (a convolution's read as `[kh·kw·C, filters]`).
func blockCounts(_ mask: [Float], units: Int, block: Int) -> [Int] {
    let rows = mask.count / units
    return (0..<units).flatMap { u in
        stride(from: 0, to: rows, by: block).map { start in
            (start..<min(start + block, rows)).filter { mask[$0 * units + u] != 0 }.count
        }
    }
}
