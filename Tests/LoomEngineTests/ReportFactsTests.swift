import LoomEngine
import XCTest

/// What reports show, as the engine gives it, against values worked out by hand.
final class ReportFactsTests: XCTestCase {
    var random = RandomGenerator(seed: 11)

    /// A kernel [2, 1, 2, 2] holding 1…8: filter 0 is 1, 3 | 5, 7 over its
    /// two channels, filter 1 is 2, 4 | 6, 8.
    func testFilterImagesAreEachFiltersMeanOverItsChannels() throws {
        let conv = try Conv2D(name: "c", input: [3, 3, 2], filters: 2, kernel: Window(2, 1), stride: 1, padding: .valid,
                              random: &random)
        conv.weight.value = Tensor(shape: [2, 1, 2, 2], storage: [1, 2, 3, 4, 5, 6, 7, 8])
        let filters = try XCTUnwrap(conv.filterImages.first)
        XCTAssertEqual(conv.filterImages.count, 1)
        XCTAssertNil(filters.position)
        XCTAssertEqual(filters.height, 2)
        XCTAssertEqual(filters.width, 1)
        XCTAssertEqual(filters.channels, 2)
        XCTAssertEqual(filters.images, [[2, 6], [3, 7]])
        XCTAssertEqual(Dense(name: "d", inputs: 2, units: 2, random: &random).filterImages, [])
    }

    /// A locally connected layer on 3×3×2 with 2×1 kernels has 2×3 positions,
    /// each with a kernel `[2·1·2, 2]` of its own: the sets drawn are the first
    /// (0), the centre (row 1, column 1: 4) and the last (5) positions'.
    func testALocallyConnectedLayersFiltersAreItsKernelsAtThreePositions() throws {
        let local = try Local2DSpec(filters: 2, kernel: Window(2, 1), stride: 1, padding: .valid)
            .build(name: "l", input: [3, 3, 2], random: &random)[0]
        let kernel = try XCTUnwrap(local.parameters.first)
        XCTAssertEqual(kernel.value.shape, [6, 4, 2])
        kernel.value = Tensor(shape: [6, 4, 2], storage: (0..<48).map(Float.init))
        let sets = local.filterImages
        XCTAssertEqual(sets.map(\.position), ["at position (1, 1) of 2x3", "at position (2, 2) of 2x3", "at position (2, 3) of 2x3"])
        // Position p's kernel starts at 8p; filter 0 at tap (y, 0) is the mean of its two channels 8p + 4y + {0, 2}.
        for (set, p) in zip(sets, [0, 4, 5]) {
            let base = Double(8 * p)
            XCTAssertEqual(set.images, [[base + 1, base + 5], [base + 2, base + 6]])
            XCTAssertEqual([set.height, set.width, set.channels], [2, 1, 2])
        }
    }

    /// H(0.5) = 1 bit, H(0.25) = 0.811278…, H(0) = H(1) = 0; with k = 1 of
    /// 4 the most is 4 · H(0.25).
    func testDutyCycleEntropyIsTheSumOfBinaryEntropies() throws {
        let h = 0.8112781244591328
        let summary = DutyCycleSummary(dutyCycles: [0.5, 0.25, 0, 1], k: 1, group: 4)
        XCTAssertEqual(summary.dutyCycles, [0.5, 0.25, 0, 1])
        XCTAssertEqual(summary.entropy, 1 + h, accuracy: 1e-12)
        XCTAssertEqual(summary.maximumEntropy, 4 * h, accuracy: 1e-12)
        XCTAssertEqual(summary.share ?? -1, (1 + h) / (4 * h), accuracy: 1e-12)
        // Every unit always winning: no entropy to reach.
        XCTAssertNil(DutyCycleSummary(dutyCycles: [1, 1], k: 2, group: 2).share)
        // A k-winners layer before training: no unit has won, at most 4 · H(2/4) = 4 bits.
        let kwta = try KWinnersSpec(k: .units(2)).build(name: "k", input: [4], random: &random)[0]
        XCTAssertEqual(kwta.dutyCycleSummary, DutyCycleSummary(dutyCycles: [0, 0, 0, 0], k: 2, group: 4))
        XCTAssertEqual(kwta.dutyCycleSummary?.maximumEntropy, 4)
        XCTAssertNil(Dense(name: "d", inputs: 2, units: 2, random: &random).dutyCycleSummary)
    }

    /// Two samples, two steps, two gates of two units: each gate's mean at
    /// a step is over its two units of both samples.
    func testRecurrentTraceMeansEachGateOverUnitsAndSamples() {
        // [sample, step, gate·unit]: gate 0 holds 1…, gate 1 holds 10….
        let gates = Tensor(shape: [2, 2, 4], storage: [1, 2, 10, 20,   3, 4, 30, 40,
                                                       5, 6, 50, 60,   7, 8, 70, 80])
        let states = Tensor(shape: [2, 2, 2], storage: [1, 2, 3, 4, 5, 6, 7, 8])
        let trace = RecurrentTrace(states: states, gates: gates, gateNames: ["a", "b"])
        XCTAssertEqual(trace.gateMeans.map(\.gate), ["a", "b"])
        XCTAssertEqual(trace.gateMeans[0].means, [14.0 / 4, 22.0 / 4])      // (1 + 2 + 5 + 6) ÷ 4, (3 + 4 + 7 + 8) ÷ 4
        XCTAssertEqual(trace.gateMeans[1].means, [140.0 / 4, 220.0 / 4])    // the same, times ten
        // Sample 1's states: step 0 is (5, 6), step 1 is (7, 8); a row per unit.
        XCTAssertEqual(trace.stateGrid(sample: 1), [5, 7, 6, 8])
    }

    /// An LSTM's trace: its four gates by name, σ gates between 0 and 1,
    /// and its states those the layer returns with `sequences`.
    func testAnLSTMsTraceFollowsItsForwardPass() throws {
        let lstm = try LSTM(name: "l", input: [3, 2], units: 2, returnsSequences: true, random: &random)
        let x = Tensor(shape: [2, 3, 2], storage: [0.5, -1, 0.2, 0.3, -0.7, 0.1, 1, 0.4, -0.2, 0.6, 0.3, -0.5])
        let trace = try XCTUnwrap(lstm.trace(x, after: nil, keepingStatesOf: 2))
        XCTAssertEqual(trace.gateMeans.map(\.gate), ["input", "forget", "cell", "output"])
        XCTAssertEqual(trace.states, lstm.forward(x, training: false))
        for gate in [0, 1, 3] { for m in trace.gateMeans[gate].means { XCTAssertTrue(m > 0 && m < 1) } }
        XCTAssertNil(Dense(name: "d", inputs: 2, units: 2, random: &random).trace(x, after: nil, keepingStatesOf: 2))
    }

    /// Recurrent layers, one cell or two, are unrolled over the steps; a
    /// dense layer on a sequence shares its weights across them unrolled by nothing.
    func testRecurrentLayersSayTheyUnrollOverSteps() throws {
        for bidirectional in [false, true] {
            XCTAssertTrue(try RecurrentSpec(cell: GRU.self, units: 2, bidirectional: bidirectional)
                .build(name: "g", input: [4, 2], random: &random)[0].unrollsOverSteps)
        }
        XCTAssertFalse(Dense(name: "d", inputs: 2, units: 2, steps: 4, random: &random).unrollsOverSteps)
    }

    /// A cell's grids: per gate, the kernel's rows then the recurrent
    /// kernel's, the gate's own columns; a bidirectional layer's both cells.
    func testRecurrentWeightGridsAreEachGatesColumns() throws {
        let (f, h) = (2, 3)
        let gru = try GRU(name: "g", input: [4, f], units: h, random: &random)
        let grids = gru.weightGrids
        XCTAssertEqual(grids.map(\.title), ["update", "reset", "candidate"].map {
            "g \($0) gate: rows 1–2 input kernel, 3–5 recurrent kernel; a column per unit"
        })
        let reset = grids[1], width = 3 * h
        XCTAssertEqual([reset.rows, reset.columns], [f + h, h])
        XCTAssertEqual(reset.values[0 * h + 2], Double(gru.kernel.value[0 * width + h + 2]))
        XCTAssertEqual(reset.values[1 * h + 0], Double(gru.kernel.value[1 * width + h + 0]))
        XCTAssertEqual(reset.values[(f + 2) * h + 1], Double(gru.recurrentKernel.value[2 * width + h + 1]))
        let both = try RecurrentSpec(cell: LSTM.self, units: h, bidirectional: true).build(name: "b", input: [4, f], random: &random)[0]
        XCTAssertEqual(both.weightGrids.map(\.title).map { $0.prefix(while: { $0 != ":" }) },
                       ["b forward input gate", "b forward forget gate", "b forward cell gate", "b forward output gate",
                        "b backward input gate", "b backward forget gate", "b backward cell gate", "b backward output gate"])
    }

    /// Any other layer: its kernel as rows × its last dimension, then its
    /// mask where it has one; nothing for a layer without weights.
    func testOtherLayersShowTheirKernelAndItsMask() throws {
        let dense = Dense(name: "d", inputs: 3, units: 2, random: &random)
        dense.weight.value = Tensor(shape: [3, 2], storage: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(dense.weightGrids, [ReportGrid(title: "d weights, 3x2", rows: 3, columns: 2, values: [1, 2, 3, 4, 5, 6])])
        try dense.weight.setMask([1, 0, 1, 1, 0, 1])
        XCTAssertEqual(dense.weightGrids.map(\.kind), [.values, .pattern])
        XCTAssertEqual(dense.weightGrids.first?.values, [1, 0, 3, 4, 0, 6])
        XCTAssertEqual(dense.weightGrids.last, ReportGrid(title: "d's mask: the weights that train", kind: .pattern, rows: 3,
                                                        columns: 2, values: [1, 0, 1, 1, 0, 1]))
        XCTAssertEqual(try FlattenSpec().build(name: "f", input: [2, 2], random: &random)[0].weightGrids, [])
    }

    /// Blocks of 10 weights (4 zero, half the outputs zero over 4 units), 6
    /// weights (none zero, a quarter zero over 12 units) and none: 4 zeros of
    /// 16 weights, and (0.5·4 + 0.25·12) ÷ 16 of the outputs.
    func testModelSparsityAddsBlocksAndWeighsActivationsByUnits() {
        let blocks = [BlockSparsity(name: "a", weights: 10, zeroWeights: 4, zeroActivations: 0.5, units: 4),
                      BlockSparsity(name: "b", weights: 6, zeroWeights: 0, zeroActivations: 0.25, units: 12),
                      BlockSparsity(name: "c", weights: 0, zeroWeights: 0)]
        let sparsity = ModelSparsity(blocks: blocks)
        XCTAssertEqual(sparsity.total, BlockSparsity(name: "total", weights: 16, zeroWeights: 4))
        XCTAssertEqual(sparsity.total.nonzeroWeights, 12)
        XCTAssertEqual(sparsity.total.weightSparsity, 0.25)
        XCTAssertEqual(sparsity.zeroActivations ?? -1, 5.0 / 16.0, accuracy: 1e-15)
        XCTAssertNil(ModelSparsity(blocks: [blocks[2]]).zeroActivations)
    }

    /// A 2-3-2 model: 9 + 8 weights and biases; three set to zero by hand
    /// and two more masked (so zero too, but only those two cannot train).
    func testNonzeroAndTrainableCountsOfAModel() throws {
        let m = try Sequential(name: "m", inputShape: [2], random: RandomGenerator(seed: 3))
        try m.add(.dense(units: 3, activation: .relu))
        try m.add(.dense(units: 2, activation: .linear))
        XCTAssertEqual(m.trainableParameters, 17)
        let first = m.blocks[0].parameters[0], second = m.blocks[1].parameters[0]
        first.value = Tensor(shape: [2, 3], storage: [0, 1, 0, 1, 1, 0])
        try second.setMask([1, 1, 0, 1, 1, 0])
        let biases = 3 + 2  // all zero at the start
        XCTAssertEqual(m.nonzeroParameters, 17 - 3 - 2 - biases)
        XCTAssertEqual(m.weightSparsity, Double(3 + 2 + biases) / 17, accuracy: 1e-15)
        XCTAssertEqual(m.trainableParameters, 17 - 2)
    }

    /// relu(x·W) with W = [[1, −1], [0, 1]] on four samples: 3 zeros of 8.
    func testBlockActivationsCountZeroOutputs() throws {
        let m = try Sequential(name: "m", inputShape: [2], random: RandomGenerator(seed: 3))
        try m.add(.dense(units: 2, activation: .relu))
        m.blocks[0].parameters[0].value = Tensor(shape: [2, 2], storage: [1, -1, 0, 1])
        let x = Tensor(shape: [4, 2], storage: [1, 0, -1, 2, 2, 3, 0, 0])
        let activations = m.blocks[0].activations(on: x)
        XCTAssertEqual(activations.outputs.storage, [1, 0, 0, 3, 2, 1, 0, 0])
        XCTAssertEqual(activations.zeroShare, 4.0 / 8.0)
    }

    /// Atoms (1, 0), (0, 1), (0.6, 0.8); sample 0 coded 0.5·a1 − 2·a3 is
    /// rebuilt as (−0.7, −1.6) against (1, −1): error √(3.25 ÷ 2).
    func testACodedSampleTakenApart() {
        let dictionary = SparseDictionary(atoms: [1, 0, 0, 1, 0.6, 0.8], count: 3, length: 2)
        var codes = SparseCodes(values: [0.5, 0, -2, 0, 0, 0], samples: 2, atoms: 3)
        let signals = Tensor(shape: [2, 2], storage: [1, -1, 0, 0])
        let coded = CodedSample(sample: 0, codes: codes, dictionary: dictionary, signals: signals)
        XCTAssertEqual(coded.terms.map(\.atom), [2, 0])
        XCTAssertEqual(coded.terms.map(\.weight), [-2, 0.5])
        XCTAssertEqual(coded.signal, [1, -1])
        XCTAssertEqual(coded.rebuilt[0], -0.7, accuracy: 1e-6)
        XCTAssertEqual(coded.rebuilt[1], -1.6, accuracy: 1e-6)
        XCTAssertEqual(coded.relativeError, (3.25 / 2).squareRoot(), accuracy: 1e-6)
        XCTAssertEqual(coded.weightedAtoms, [-2 * 0.6, -2 * 0.8, 0.5, 0])
        let empty = CodedSample(sample: 1, codes: codes, dictionary: dictionary, signals: signals)
        XCTAssertEqual(empty.terms, [])
        XCTAssertEqual(empty.relativeError, 0)
        // The set: 2 + 0 nonzeros, two atoms used; OMP's sums 4, 1, 0.25 are errors of √¼ and √(1/16).
        XCTAssertEqual(codes.meanNonzeros, 1)
        XCTAssertEqual(codes.maxNonzeros, 2)
        XCTAssertEqual(codes.atomsUsed, 2)
        XCTAssertNil(codes.relativeErrorByStep)
        codes.residualByStep = [4, 1, 0.25]
        XCTAssertEqual(codes.relativeErrorByStep, [0.5, 0.25])
        codes.residualByStep = [0, 0]
        XCTAssertNil(codes.relativeErrorByStep)
    }

    /// A 3x3 convolution of 32 filters on 28x28x1: 26·26 positions × 320
    /// weights unshared against 320 stored; the fully connected layer
    /// between the same shapes holds 784 × 21,632 weights and 21,632
    /// biases; pooling and flatten have no connections; an LSTM is unrolled.
    func testTheSharingSummaryCountsWhatEachBlockWouldStoreUnshared() throws {
        let model = try Sequential(name: "m", inputShape: [28, 28, 1], random: RandomGenerator(seed: 1))
        try model.add(Conv2DSpec(filters: 32, kernel: Window(3, 3), activation: .relu, stride: 1, padding: .valid))
        try model.add(PoolingSpec(mode: .max, size: Window(2, 2), stride: nil))
        try model.add(.flatten)
        try model.add(.dense(units: 10, activation: .softmax))
        let summary = model.sharingSummary
        XCTAssertEqual(summary.blocks.map(\.name), ["conv1", "pool1", "flatten1", "dense1"])
        let conv = summary.blocks[0]
        XCTAssertEqual([conv.stored, conv.unshared, conv.dense, conv.multiplyAdds],
                       [320, 26 * 26 * 320, 784 * 21_632 + 21_632, 26 * 26 * 32 * 9])
        XCTAssertEqual(conv.sharing, 676)
        XCTAssertEqual([summary.blocks[1].dense, summary.blocks[2].dense], [0, 0])
        XCTAssertNil(summary.blocks[1].sharing)
        XCTAssertEqual(summary.blocks[3].dense, 13 * 13 * 32 * 10 + 10)
        XCTAssertEqual(summary.total.stored, 320 + 13 * 13 * 32 * 10 + 10)
        XCTAssertEqual(summary.total.unshared, 26 * 26 * 320 + 13 * 13 * 32 * 10 + 10)
        XCTAssertFalse(summary.unrollsOverSteps)

        let sequence = try Sequential(name: "s", inputShape: [10, 1], random: RandomGenerator(seed: 1))
        try sequence.add(RecurrentSpec(cell: LSTM.self, units: 4))
        XCTAssertTrue(sequence.sharingSummary.unrollsOverSteps)
        // 10 steps, each a copy of the cell's (1 + 4 + 1) · 16 weights.
        XCTAssertEqual(sequence.sharingSummary.total.unshared, 10 * 6 * 16)
    }

    /// Three codes over four atoms: atom 2 is used by all three, atoms 0 and
    /// 3 by one each (tied: by index), atom 1 by none.
    func testAtomsAreOrderedByUseThenIndex() {
        let codes = SparseCodes(values: [1, 0, 2, 0,
                                         0, 0, 3, 0,
                                         0, 0, -1, 4], samples: 3, atoms: 4)
        XCTAssertEqual(codes.usage, [1, 0, 3, 1])
        XCTAssertEqual(SparseCodes.atomsByUse(codes.usage), [2, 0, 3, 1])
    }

    /// The mean of the epochs' times; nothing before an epoch ran.
    func testMeanEpochTimeIsTheMeanOfTheEpochs() {
        let epochs = [1.5, 0.5, 2.5].enumerated().map { EpochRecord(epoch: $0.offset + 1, loss: 1, seconds: $0.element) }
        XCTAssertEqual(epochs.meanEpochSeconds ?? -1, 1.5, accuracy: 1e-12)
        XCTAssertNil([EpochRecord]().meanEpochSeconds)
    }
}
