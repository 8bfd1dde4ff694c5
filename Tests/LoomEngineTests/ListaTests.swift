import LoomEngine
import XCTest

/// LISTA: untrained it is ISTA, its gradients match finite differences,
/// and training brings its codes nearer the lasso's.
final class ListaTests: XCTestCase {
    var random = RandomGenerator(seed: 11)

    func dictionary(_ count: Int, _ length: Int) -> SparseDictionary { randomDictionary(count, length, &random) }
    func signals(_ samples: Int, _ length: Int) -> Tensor { randomSignals(samples, length, &random) }

    func lista(_ d: SparseDictionary, steps: Int, alpha: Double, input: [Int]) throws -> Layer {
        var random = RandomGenerator(seed: 0)
        return try ListaSpec(steps: steps, from: "D", alpha: alpha, dictionary: d).build(name: "lista1", input: input, random: &random)[0]
    }

    func testAnUntrainedListaGivesIstasCodesBitForBit() throws {
        let d = dictionary(24, 16), x = signals(50, 16)
        var previous: [Float] = []
        for steps in [1, 2, 5, 20] {
            let ista = try XCTUnwrap(SparseCoding.encode(x, with: d, .proximalGradient(alpha: 0.1, positive: false, accelerated: false,
                                                                                        iterations: steps, tolerance: 0)))
            let layer = try lista(d, steps: steps, alpha: 0.1, input: [16])
            let inference = BLAS.singleThreaded { layer.forward(x, training: false) }
            let training = BLAS.singleThreaded { layer.forward(x, training: true) }
            XCTAssertEqual(inference.storage, ista.values, "\(steps) steps")
            XCTAssertEqual(training.storage, ista.values, "\(steps) steps, training")
            XCTAssertGreaterThan(ista.values.filter { $0 != 0 }.count, 50, "codes with nonzeros")
            XCTAssertNotEqual(ista.values, previous, "each step moves the codes")
            previous = ista.values
        }
    }

    /// Samples of any shape holding the atoms' length are coded as rows.
    func testImagesAreCodedAsTheirValues() throws {
        let d = dictionary(10, 16), x = signals(7, 16)
        let flat = try lista(d, steps: 3, alpha: 0.05, input: [16]).forward(x, training: false)
        let image = try lista(d, steps: 3, alpha: 0.05, input: [4, 4, 1]).forward(x.reshaped([7, 4, 4, 1]), training: false)
        XCTAssertEqual(flat.storage, image.storage)
        XCTAssertEqual(image.shape, [7, 10])
    }

    func testAnInputOfAnotherLengthOrNoDictionaryIsRefusedByName() {
        var random = RandomGenerator(seed: 0)
        let d = dictionary(10, 16)
        XCTAssertThrowsError(try ListaSpec(steps: 3, from: "D", dictionary: d).build(name: "l", input: [15], random: &random)) {
            XCTAssertTrue("\($0)".contains("16 values"), "\($0)")
        }
        XCTAssertThrowsError(try ListaSpec(steps: 3, from: "D").build(name: "l", input: [16], random: &random)) {
            XCTAssertTrue("\($0)".contains("`D`"), "\($0)")
        }
    }

    /// dL/dx, dL/dWₑ, dL/dS and dL/dθ against central differences, L = Σ wᵢyᵢ,
    /// at a point where no value before thresholding lies within a probe of ±θ.
    func testGradientsMatchFiniteDifferences() throws {
        let d = dictionary(8, 6), x = signals(5, 6)
        let layer = try lista(d, steps: 4, alpha: 0.2, input: [6])
        let y = layer.forward(x, training: true)
        let w = Tensor(shape: y.shape, storage: (0..<y.count).map { _ in random.nextUnitFloat() * 2 - 1 })
        for p in layer.parameters { p.zeroGradient() }
        let dx = layer.backward(w)
        let eps: Float = 1e-4
        func loss(_ x: Tensor) -> Double {
            let y = layer.forward(x, training: false)
            return (0..<y.count).reduce(0.0) { $0 + Double(y[$1]) * Double(w[$1]) }
        }
        func compare(_ analytic: Float, _ numerical: Double, _ what: String) {
            let scale = max(1, abs(Double(analytic)), abs(numerical))
            XCTAssertLessThan(abs(Double(analytic) - numerical) / scale, 1e-2, "\(what): analytic \(analytic), numeric \(numerical)")
        }
        let numericalInput = numericalGradient(x, eps: eps, loss)
        for i in 0..<x.count { compare(dx[i], numericalInput[i], "input[\(i)]") }
        for p in layer.parameters {
            XCTAssertTrue(p.gradient.storage.contains { $0 != 0 }, "\(p.name) has a gradient")
            for i in 0..<p.value.count {
                p.value[i] += eps
                let plus = loss(x)
                p.value[i] -= 2 * eps
                let minus = loss(x)
                p.value[i] += eps
                compare(p.gradient[i], (plus - minus) / (2 * Double(eps)), "\(p.name)[\(i)]")
            }
        }
    }

    /// A 3-step LISTA model over `atoms` random atoms of `length` values,
    /// the lasso's codes of `samples` random signals (FISTA, `iterations`),
    /// and a function that trains the model to them with Adam at `lr`.
    func listaAndLassoCodes(atoms: Int, length: Int, samples: Int, alpha: Double, iterations: Int) throws
        -> (model: Sequential, x: Tensor, codes: Tensor, train: (_ epochs: Int, _ lr: Float) -> Void) {
        let d = dictionary(atoms, length), x = signals(samples, length)
        let target = try XCTUnwrap(SparseCoding.encode(x, with: d, .proximalGradient(alpha: alpha, positive: false, accelerated: true,
                                                                                       iterations: iterations, tolerance: 0)))
        let model = try Sequential(name: "l", inputShape: [length], random: RandomGenerator(seed: 1))
        try model.add(ListaSpec(steps: 3, from: "D", alpha: alpha, dictionary: d))
        let codes = Tensor(shape: [samples, atoms], storage: target.values)
        return (model, x, codes, { epochs, lr in
            _ = Trainer.fit(model, on: Dataset(inputs: x, targets: .values(codes)),
                            options: FitOptions(epochs: epochs, batchSize: 32, loss: .mse), optimizer: Optimizer(.adam, learningRate: lr),
                            random: &self.random, clock: { 0 })
        })
    }

    func testTrainingBringsListasCodesNearerTheLassos() throws {
        let (model, x, codes, train) = try listaAndLassoCodes(atoms: 16, length: 12, samples: 256, alpha: 0.1, iterations: 300)
        func error() -> Double {
            let y = model.predict(x)
            return (0..<y.count).reduce(0.0) { $0 + Double(y[$1] - codes[$1]) * Double(y[$1] - codes[$1]) } / Double(y.count)
        }
        let before = error()
        train(30, 0.003)
        let after = error()
        XCTAssertLessThan(after, 0.5 * before, "mean squared error against the lasso's codes: \(before) before, \(after) after")
    }

    /// Trained with Adam at lr 0.01 to the lasso's codes, α stays above 0
    /// and most codes stay exactly 0, as the lasso's are (θ = α/L, about
    /// 0.006 here, is below one Adam step).
    func testTrainingKeepsTheCodesSparse() throws {
        let (model, x, codes, train) = try listaAndLassoCodes(atoms: 64, length: 16, samples: 512, alpha: 0.05, iterations: 500)
        train(20, 0.01)
        let layer = try XCTUnwrap(model.blocks.last?.main as? Lista)
        XCTAssertGreaterThan(layer.penalty.value[0], 0, "alpha")
        let lassoNonzeros = Double(codes.storage.filter { $0 != 0 }.count) / 512
        let nonzeros = Double(model.predict(x).storage.filter { $0 != 0 }.count) / 512
        XCTAssertLessThan(nonzeros, 0.5 * 64, "nonzeros a code after training (the lasso's: \(lassoNonzeros))")
    }

    /// Below 0, α cuts nothing but still has a gradient, so training can bring it back.
    func testAnAlphaBelowZeroCutsNothingButStillLearns() throws {
        let d = dictionary(8, 6), x = signals(5, 6)
        let layer = try lista(d, steps: 2, alpha: 0.2, input: [6])
        let unit = try XCTUnwrap(layer as? Lista)
        unit.penalty.value[0] = -0.5
        let y = layer.forward(x, training: true)
        let plain = try lista(d, steps: 2, alpha: 0, input: [6]).forward(x, training: false)
        XCTAssertEqual(y.storage, plain.storage, "no cut at all")
        for p in layer.parameters { p.zeroGradient() }
        _ = layer.backward(Tensor(shape: y.shape, storage: y.storage))
        XCTAssertLessThan(unit.penalty.gradient[0], 0, "a larger alpha shrinks the codes, lowering Σ y²/2")
    }

    /// A file from when the layer stored θ = α/L loads as α = θ·L and codes as before.
    func testAFileWithTheOldThresholdLoadsAsAlpha() throws {
        let d = dictionary(12, 8), x = signals(20, 8)
        let model = try Sequential(name: "l", inputShape: [8], random: RandomGenerator(seed: 1))
        try model.add(ListaSpec(steps: 3, from: "D", alpha: 0.25, dictionary: d))
        let expected = model.predict(x).storage
        let block = try XCTUnwrap(model.blocks.last).name
        var tensors = Dictionary(uniqueKeysWithValues: model.weightTensors.map { ($0.name, $0.tensor) })
        let lipschitz = largestEigenvalueByPowerIteration(d)
        tensors["\(block).alpha"] = nil
        tensors["\(block).threshold"] = Tensor(shape: [1], storage: [Float(0.25 / lipschitz)])
        try model.load(weights: tensors, source: "old.safetensors")
        let layer = try XCTUnwrap(model.blocks.last?.main as? Lista)
        XCTAssertEqual(Double(layer.penalty.value[0]), 0.25, accuracy: 1e-6)
        let codes = model.predict(x).storage
        for (a, b) in zip(codes, expected) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        XCTAssertGreaterThan(codes.filter { $0 == 0 }.count, 0, "thresholded codes")
    }

    func testStoredAndUnrolledParameters() throws {
        let layer = try lista(dictionary(8, 6), steps: 5, alpha: 0.1, input: [6])
        XCTAssertEqual(layer.parameterCount, 8 * 6 + 8 * 8 + 1)
        XCTAssertEqual(layer.unsharedParameters, 5 * (8 * 6 + 8 * 8 + 1))
        XCTAssertTrue(layer.unrollsOverSteps)
    }
}

/// The KL sparsity penalty of a sparse autoencoder (Ng's UFLDL notes).
final class ActivityKLTests: XCTestCase {
    func penalty(_ layer: Layer, _ x: Tensor) -> Double {
        let step = StepContext(batch: x.batch)
        _ = layer.forward(x, step: step)
        return step.penalty
    }

    func testThePenaltyIsTheWeightedDivergenceOfEachUnitsMean() throws {
        var random = RandomGenerator(seed: 0)
        let layer = try ActivitySpec(penalty: .kl, amount: 0.1, weight: 3).build(name: "a", input: [2], random: &random)[0]
        // Unit means 0.2 and 0.5 over two samples.
        let x = Tensor(shape: [2, 2], storage: [0.1, 0.4, 0.3, 0.6])
        func kl(_ rho: Double, _ mean: Double) -> Double { rho * log(rho / mean) + (1 - rho) * log((1 - rho) / (1 - mean)) }
        // The batch's mean loss gains β·Σ KL, so its sum over the batch gains twice that.
        XCTAssertEqual(penalty(layer, x), 2 * 3 * (kl(0.1, 0.2) + kl(0.1, 0.5)), accuracy: 1e-6)
        XCTAssertEqual(layer.minimumShard, Int.max, "the whole batch in one shard")
    }

    func testItsGradientMatchesFiniteDifferences() throws {
        var random = RandomGenerator(seed: 5)
        let layer = try ActivitySpec(penalty: .kl, amount: 0.05, weight: 2).build(name: "a", input: [3, 2], random: &random)[0]
        let x = Tensor(shape: [4, 3, 2], storage: (0..<24).map { _ in 0.1 + 0.8 * random.nextUnitFloat() })
        let w = Tensor(shape: x.shape, storage: (0..<24).map { _ in random.nextUnitFloat() - 0.5 })
        // L = Σ wᵢaᵢ + the batch's mean penalty.
        func loss(_ x: Tensor) -> Double {
            (0..<x.count).reduce(0.0) { $0 + Double(x[$1]) * Double(w[$1]) } + penalty(layer, x) / Double(x.batch)
        }
        _ = penalty(layer, x)
        let analytic = layer.backward(w)
        let numerical = numericalGradient(x, eps: 1e-3, loss)
        for i in 0..<x.count {
            XCTAssertEqual(Double(analytic[i]), numerical[i], accuracy: 2e-3 * max(1, abs(numerical[i])), "a[\(i)]")
        }
    }

    func testAMeanOutsideZeroAndOneIsRefused() {
        var random = RandomGenerator(seed: 0)
        for rho: Float in [0, 1, 1.5] {
            XCTAssertThrowsError(try ActivitySpec(penalty: .kl, amount: rho).build(name: "a", input: [4], random: &random))
        }
    }
}

/// A code layer's dead and always-on units, as `show activations` reports them.
final class CodeUnitTests: XCTestCase {
    func testDeadAndAlwaysOnUnitsAreCountedOverTheSamples() throws {
        let model = try Sequential(name: "m", inputShape: [4], random: RandomGenerator(seed: 0))
        try model.add(ThresholdSpec(epsilon: 0.5))
        // Units 0 and 3 never pass, unit 1 always, unit 2 once.
        let x = Tensor(shape: [3, 4], storage: [0.1, 0.9, 0.7, 0.0,
                                                0.2, -0.8, 0.1, 0.3,
                                                -0.4, 0.6, 0.0, 0.0])
        let activations = model.blocks[0].activations(on: x)
        XCTAssertEqual(activations.deadUnits, 2)
        XCTAssertEqual(activations.alwaysOnUnits, 1)
        XCTAssertEqual(activations.zeroShare, 8.0 / 12.0, accuracy: 1e-12)
    }
}

/// `count` random atoms of `length` values, scaled to unit norm.
func randomDictionary(_ count: Int, _ length: Int, _ random: inout RandomGenerator) -> SparseDictionary {
    var d = SparseDictionary(atoms: (0..<(count * length)).map { _ in random.nextUnitFloat() * 2 - 1 }, count: count, length: length)
    d.normalize()
    return d
}

/// `samples` random signals of `length` values in [−1, 1).
func randomSignals(_ samples: Int, _ length: Int, _ random: inout RandomGenerator) -> Tensor {
    Tensor(shape: [samples, length], storage: (0..<(samples * length)).map { _ in random.nextUnitFloat() * 2 - 1 })
}

/// λₘₐₓ(DDᵀ) computed the plain way: power iteration on DDᵀ in double precision.
func largestEigenvalueByPowerIteration(_ d: SparseDictionary) -> Double {
    let k = d.count, n = d.length
    var v = [Double](repeating: 1, count: k), value = 0.0
    for _ in 0..<2000 {
        let u = (0..<n).map { j in (0..<k).reduce(0.0) { $0 + v[$1] * Double(d.atoms[$1 * n + j]) } }
        let w = (0..<k).map { i in (0..<n).reduce(0.0) { $0 + u[$1] * Double(d.atoms[i * n + $1]) } }
        value = (w.reduce(0) { $0 + $1 * $1 }).squareRoot()
        v = w.map { $0 / value }
    }
    return value
}
