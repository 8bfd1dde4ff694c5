import LoomEngine
import XCTest

/// The deep-sparse layers against finite differences and hand-computed values.
extension GradientTests {
    func testThresholdPassesTheGradientWhereItKeeps() throws {
        let layer = try ThresholdSpec(epsilon: 0.3).build(name: "t", input: [7], random: &random)[0]
        let x = Tensor(shape: [1, 7], storage: [0.5, -0.2, 0.29, -0.8, 0.31, 0, 1.2])
        XCTAssertEqual(layer.forward(x, training: true).storage, [0.5, 0, 0, -0.8, 0.31, 0, 1.2])
        XCTAssertEqual(layer.backward(Tensor(shape: [1, 7], repeating: 1)).storage, [1, 0, 0, 1, 1, 0, 1])
        check(layer, input: distinctTensor([3, 7]))
    }

    func testKWinnersKeepsTheLargestAndBreaksTiesByIndex() throws {
        let flat = try KWinnersSpec(k: .units(2)).build(name: "k", input: [5], random: &random)[0]
        XCTAssertEqual(flat.forward(Tensor(shape: [2, 5], storage: [1, 3, 3, 2, 0, -1, -2, 5, 4, -3]), training: true).storage,
                       [0, 3, 3, 0, 0, 0, 0, 5, 4, 0])
        XCTAssertEqual(flat.forward(Tensor(shape: [1, 5], storage: [2, 2, 2, 1, 2]), training: false).storage, [2, 2, 0, 0, 0])
        check(flat, input: distinctTensor([3, 5]))
        // An image: two winners of three channels at each location, or two of everything with `global`.
        let image = try KWinnersSpec(k: .units(2)).build(name: "k", input: [2, 2, 3], random: &random)[0]
        var positive = distinctTensor([1, 2, 2, 3])
        for i in 0..<positive.count { positive[i] += 10 }  // no winner is zero
        let y = image.forward(positive, training: false)
        for location in 0..<4 { XCTAssertEqual((0..<3).filter { y[location * 3 + $0] != 0 }.count, 2) }
        let global = try KWinnersSpec(k: .units(2), global: true).build(name: "k", input: [2, 2, 3], random: &random)[0]
        XCTAssertEqual(global.forward(positive, training: false).storage.filter { $0 != 0 }.count, 2)
        check(image, input: distinctTensor([2, 2, 2, 3]))
        XCTAssertEqual((try KWinnersSpec(k: .share(0.1)).build(name: "k", input: [256], random: &random)[0] as! KWinners).k, 25)
    }

    /// Boosting: a unit that never wins gains, until it does; the values
    /// passed on are the unboosted ones, and the gradient goes to the winners.
    func testBoostingFavoursUnitsThatHaveNotWon() throws {
        let spec = KWinnersSpec(k: .units(1), boost: 10)
        let model = try Sequential(name: "m", inputShape: [3], random: RandomGenerator(seed: 1))
        try model.add(spec)
        let layer = model.layers[0] as! KWinners
        // Unit 0 is always largest: without boosting it would win forever.
        let x = Tensor(shape: [4, 3], storage: [1, 0.9, 0.8, 1, 0.9, 0.8, 1, 0.9, 0.8, 1, 0.9, 0.8])
        var winners: Set<Int> = []
        for _ in 0..<30 {
            let y = layer.forward(x, training: true)
            winners.insert((0..<3).first { y[$0] != 0 }!)
            XCTAssertEqual(y.storage.filter { $0 != 0 }.allSatisfy { [1, 0.9, 0.8].contains($0) }, true, "unboosted values")
            layer.finishStep(shards: [layer])
        }
        XCTAssertEqual(winners, [0, 1, 2])
        XCTAssertEqual(layer.dutyCycles.reduce(0, +), 1, accuracy: 1e-4, "one winner of three per sample")
        check(try KWinnersSpec(k: .units(2), boost: 1.5).build(name: "k", input: [5], random: &random)[0],
              input: distinctTensor([3, 5]))
    }

    func testActivityL1AddsItsPenaltyAndItsGradient() throws {
        let model = try Sequential(name: "m", inputShape: [3], random: RandomGenerator(seed: 2))
        try model.add(.dense(units: 4, activation: .tanh))
        try model.add(ActivitySpec(penalty: .l1, amount: 0.05))
        try model.add(.dense(units: 2, activation: .softmax))
        var random = RandomGenerator(seed: 3)
        var x = Tensor(zeros: [32, 3])
        for i in 0..<x.count { x[i] = random.nextUnitFloat() * 2 - 1 }
        let data = Dataset(inputs: x, labels: (0..<32).map { $0 % 2 })
        func total(_ m: Sequential) -> Double {
            let hidden = m.blocks[0].layers.reduce(x) { $1.forward($0, training: false) }
            return Loss.crossentropy.evaluate(m.forward(x, training: false), labels: data.labels).loss
                + 0.05 * hidden.storage.reduce(0.0) { $0 + Double(abs($1)) } / 32
        }
        let expected = total(model)
        let outcome = Trainer.fit(model, on: data, options: FitOptions(epochs: 1, batchSize: 32, loss: .crossentropy),
                                  optimizer: Optimizer(.sgd, learningRate: 0), random: &random, clock: { 0 })
        XCTAssertEqual(outcome.history[0].loss, expected, accuracy: 1e-5)
        XCTAssertGreaterThan(outcome.history[0].penalty, 0)
    }
}

final class SparseKernelTests: XCTestCase {
    /// At every sparsity from 0% to 99%, the sparse kernel gives the dense
    /// product's outputs; past the threshold, inference takes it.
    func testTheSparseKernelGivesTheDenseOutputsAtEverySparsity() throws {
        var random = RandomGenerator(seed: 5)
        var x = Tensor(zeros: [13, 40])  // 13 rows: one block of 8 and a partial one
        for i in 0..<x.count { x[i] = random.nextUnitFloat() - 0.5 }
        for percent in [0, 10, 30, 50, 70, 79, 80, 90, 95, 99] {
            let dense = Dense(name: "d", inputs: 40, units: 24, random: &random)
            for i in 0..<dense.bias.value.count { dense.bias.value[i] = Float(i) * 0.01 }
            SparseWeights.prune([dense.weight], fraction: Double(percent) / 100, global: false)
            let reference = GEMM.product(x.storage, dense.weight.value.storage, m: 13, n: 24, k: 40)
            let y = dense.forward(x, training: false)
            XCTAssertEqual(dense.infersSparsely, percent >= 80, "\(percent)%")
            for r in 0..<13 {
                for j in 0..<24 { XCTAssertEqual(y[r * 24 + j], reference[r * 24 + j] + dense.bias.value[j], accuracy: 1e-5) }
            }
            // A change to the weights is seen: the sparse copy is remade.
            dense.weight.value[0] = 0.5
            dense.weight.markChanged()
            XCTAssertEqual(dense.forward(x, training: false)[0],
                           GEMM.product(x.storage, dense.weight.value.storage, m: 13, n: 24, k: 40)[0] + dense.bias.value[0],
                           accuracy: 1e-5)
        }
    }
}
