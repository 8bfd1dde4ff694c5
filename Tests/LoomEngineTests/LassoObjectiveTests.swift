import LoomEngine
import XCTest

/// `loss lasso`: the lasso objective of a LISTA model's codes, its gradient
/// through the layer, and training on it with no target codes.
final class LassoObjectiveTests: XCTestCase {
    var random = RandomGenerator(seed: 23)

    func dictionary(_ count: Int, _ length: Int) -> SparseDictionary { randomDictionary(count, length, &random) }
    func signals(_ samples: Int, _ length: Int) -> Tensor { randomSignals(samples, length, &random) }

    /// ½‖x − zD‖² + α‖z‖₁ summed the plain way, in double precision, over the samples.
    func plainObjective(_ z: Tensor, _ x: Tensor, _ d: SparseDictionary, alpha: Double) -> Double {
        let k = d.count, n = d.length
        var total = 0.0
        for r in 0..<x.batch {
            for j in 0..<n {
                var rebuilt = 0.0
                for a in 0..<k { rebuilt += Double(z[r * k + a]) * Double(d.atoms[a * n + j]) }
                total += 0.5 * (Double(x[r * n + j]) - rebuilt) * (Double(x[r * n + j]) - rebuilt)
            }
            for a in 0..<k { total += alpha * abs(Double(z[r * k + a])) }
        }
        return total
    }

    func testTheLossIsTheMeanObjectiveAndItsGradientMatchesFiniteDifferences() {
        let d = dictionary(7, 5), x = signals(4, 5)
        // Codes away from 0, where |z| is differentiable within a probe.
        let z = Tensor(shape: [4, 7], storage: (0..<28).map { i in (random.nextUnitFloat() + 0.1) * (i % 3 == 0 ? -1 : 1) })
        let objective = LassoObjective(dictionary: d, alpha: 0.3)
        let (loss, gradient) = Loss.lasso.evaluate(z, targets: .values(x), objective: objective)
        XCTAssertEqual(loss, plainObjective(z, x, d, alpha: 0.3) / 4, accuracy: 1e-5)
        let numerical = numericalGradient(z, eps: 1e-3) { plainObjective($0, x, d, alpha: 0.3) / 4 }
        for i in 0..<z.count {
            XCTAssertEqual(Double(gradient[i]), numerical[i], accuracy: 1e-3 * max(1, abs(numerical[i])), "z[\(i)]")
        }
        // A shard's gradient is its share of the whole batch's mean.
        let shard = Loss.lasso.evaluate(z, targets: .values(x), batch: 8, objective: objective).gradient
        for i in 0..<z.count { XCTAssertEqual(shard[i], gradient[i] / 2, accuracy: 1e-7) }
    }

    func testWithoutAnObjectiveTheLossIsNotANumber() {
        let loss = Loss.lasso.evaluate(Tensor(zeros: [2, 3]), targets: .values(Tensor(zeros: [2, 4]))).loss
        XCTAssertTrue(loss.isNaN)
    }

    /// The objective's gradient back through a LISTA layer's steps to Wₑ, S
    /// and α, against central differences of the objective of its codes.
    func testTheObjectivesGradientThroughListaMatchesFiniteDifferences() throws {
        let d = dictionary(8, 6), x = signals(5, 6)
        let model = try Sequential(name: "l", inputShape: [6], random: RandomGenerator(seed: 1))
        try model.add(ListaSpec(steps: 3, from: "D", alpha: 0.15, dictionary: d))
        let layer = try XCTUnwrap(model.layers.last as? Lista)
        let objective = try XCTUnwrap(model.lassoObjective)
        XCTAssertEqual(objective.alpha, 0.15)
        // Trained α differs from the objective's: the gradient must follow the layer's α, the loss the declared one.
        layer.penalty.value[0] = 0.1
        func loss() -> Double { plainObjective(layer.forward(x, training: false), x, d, alpha: 0.15) / 5 }
        let z = layer.forward(x, training: true)
        let gradient = Loss.lasso.evaluate(z, targets: .values(x), objective: objective).gradient
        for p in layer.parameters { p.zeroGradient() }
        _ = layer.backward(gradient)
        let eps: Float = 2e-4
        for p in layer.parameters {
            XCTAssertTrue(p.gradient.storage.contains { $0 != 0 }, "\(p.name) has a gradient")
            for (i, numerical) in numericalGradient(of: p, eps: eps, loss).enumerated() {
                XCTAssertEqual(Double(p.gradient[i]), numerical, accuracy: 1e-2 * max(1, abs(numerical)),
                               "\(p.name)[\(i)]")
            }
        }
    }

    /// Trained on the objective alone (no codes to match), 3 steps come
    /// nearer the lasso's minimum on signals they never saw than 3 steps
    /// of ISTA, which they are untrained.
    func testTrainingOnTheObjectiveLowersItOnUnseenSignals() throws {
        let d = dictionary(32, 16), train = signals(512, 16), test = signals(256, 16)
        let model = try Sequential(name: "l", inputShape: [16], random: RandomGenerator(seed: 1))
        try model.add(ListaSpec(steps: 3, from: "D", alpha: 0.1, dictionary: d))
        let objective = try XCTUnwrap(model.lassoObjective)
        func testObjective() -> Double {
            Loss.lasso.evaluate(model.predict(test), targets: .values(test), withGradient: false, objective: objective).loss
        }
        let before = testObjective()
        let minimum = try XCTUnwrap(SparseCoding.encode(test, with: d, .proximalGradient(alpha: 0.1, positive: false, accelerated: true,
                                                                                           iterations: 1000, tolerance: 0)))
        let lowest = plainObjective(Tensor(shape: [256, 32], storage: minimum.values), test, d, alpha: 0.1) / 256
        let outcome = Trainer.fit(model, on: Dataset(inputs: train, targets: .inputs),
                                  options: FitOptions(epochs: 20, batchSize: 32, loss: .lasso),
                                  optimizer: Optimizer(.adam, learningRate: 0.003), random: &random, clock: { 0 })
        let after = testObjective()
        XCTAssertNil(outcome.diverged)
        XCTAssertEqual(outcome.history.count, 20)
        XCTAssertNil(outcome.history.last?.meanAbsoluteError, "codes are not compared with the inputs value by value")
        XCTAssertLessThan(outcome.history.last!.loss, outcome.history.first!.loss)
        XCTAssertLessThan(after - lowest, 0.5 * (before - lowest),
                          "objective above the lasso's minimum \(lowest): \(before - lowest) untrained, \(after - lowest) trained")
        let validation = Metrics.evaluate(model, on: Dataset(inputs: test, targets: .inputs), loss: .lasso)
        XCTAssertEqual(validation.loss, after, accuracy: 1e-9)
        XCTAssertNil(validation.meanSquaredError)
    }
}
