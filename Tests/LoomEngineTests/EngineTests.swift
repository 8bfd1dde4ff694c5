import LoomEngine
import XCTest

final class OptimizerTests: XCTestCase {
    /// One weight of 1 with gradient 0.5, stepped by hand.
    func stepped(_ kind: OptimizerKind, lr: Float? = nil, steps: Int = 1) -> Float {
        let p = Parameter(name: "w", value: Tensor(shape: [1], storage: [1]))
        let optimizer = Optimizer(kind, learningRate: lr)
        for _ in 0..<steps {
            p.gradient = Tensor(shape: [1], storage: [0.5])
            optimizer.step([p])
        }
        return p.value[0]
    }

    func testSGD() {
        XCTAssertEqual(stepped(.sgd, lr: 0.1), 0.95, accuracy: 1e-6)
        XCTAssertEqual(stepped(.sgd), 1 - 0.01 * 0.5, accuracy: 1e-6)  // Keras default lr 0.01
    }

    func testMomentumTwoSteps() {
        // v1 = −0.1·0.5 = −0.05 → 0.95; v2 = 0.9·(−0.05) − 0.05 = −0.095 → 0.855.
        XCTAssertEqual(stepped(.momentum, lr: 0.1, steps: 2), 0.855, accuracy: 1e-6)
    }

    func testAdamFirstAndSecondSteps() {
        // Step 1: m = 0.05, v = 0.00025, α = 0.001·√0.001/0.1; Δ = α·m/(√v + 1e-7) ≈ 0.001.
        let alpha1: Double = 0.001 * (0.001 as Double).squareRoot() / 0.1
        let step1: Double = alpha1 * 0.05 / ((0.00025 as Double).squareRoot() + 1e-7)
        XCTAssertEqual(Double(stepped(.adam)), 1 - step1, accuracy: 1e-6)
        // Step 2 with the same gradient: m = 0.095, v = 0.00049975, α = 0.001·√(1−0.999²)/(1−0.9²).
        let alpha2: Double = 0.001 * (1 - 0.999 * 0.999 as Double).squareRoot() / (1 - 0.81)
        let expected: Double = 1 - step1 - alpha2 * 0.095 / ((0.00049975 as Double).squareRoot() + 1e-7)
        XCTAssertEqual(Double(stepped(.adam, steps: 2)), expected, accuracy: 1e-6)
    }

    func testRMSprop() {
        // v = 0.1·0.25 = 0.025; Δ = 0.001·0.5/√(0.025 + 1e-7).
        XCTAssertEqual(Double(stepped(.rmsprop)), 1 - 0.0005 / (0.025 + 1e-7).squareRoot(), accuracy: 1e-7)
    }

    /// Long parameters take the vectorised path, one-weight parameters the
    /// scalar one: every rule must give the same bits either way.
    func testVectorisedStepsMatchOneWeightAtATime() {
        let values: [Float] = [1, -2, 0.5, 3, -0.25, 7, 0, -1.5, 2.25]
        let gradients: [Float] = [0.5, -0.1, 2, 0, 1e-4, -3, 0.7, 0.01, -0.9]
        for kind in OptimizerKind.allCases {
            let long = Parameter(name: "w", value: Tensor(shape: [9], storage: values))
            let singles = values.map { Parameter(name: "w", value: Tensor(shape: [1], storage: [$0])) }
            let (a, b) = (Optimizer(kind), Optimizer(kind))
            for step in 1...3 {
                long.gradient = Tensor(shape: [9], storage: gradients.map { $0 * Float(step) })
                for (i, p) in singles.enumerated() { p.gradient = Tensor(shape: [1], storage: [gradients[i] * Float(step)]) }
                a.step([long])
                b.step(singles)
            }
            XCTAssertEqual(long.value.storage.map(\.bitPattern), singles.map { $0.value[0].bitPattern }, "\(kind)")
        }
    }

    func testMaskedWeightsStayZeroWithEveryOptimizer() throws {
        for kind in OptimizerKind.allCases {
            let p = Parameter(name: "w", value: Tensor(shape: [3], storage: [1, 2, 3]))
            try p.setMask([1, 0, 1])
            XCTAssertEqual(p.value.storage, [1, 0, 3])
            let optimizer = Optimizer(kind)
            for _ in 0..<5 {
                p.gradient = Tensor(shape: [3], storage: [0.1, -0.3, 0.2])
                optimizer.step([p])
                XCTAssertEqual(p.gradient[1], 0, "\(kind): the masked gradient")
            }
            XCTAssertEqual(p.value[1], 0, "\(kind)")
            XCTAssertNotEqual(p.value[0], 1, "\(kind)")
            // Lifted, the weight starts from zero moments: its first step is a first step.
            try p.setMask(nil)
            let fresh = Parameter(name: "f", value: Tensor(shape: [1], storage: [0]))
            fresh.gradient = Tensor(shape: [1], storage: [-0.3])
            let reference = Optimizer(kind)
            for _ in 0..<5 { reference.step([Parameter(name: "x", value: Tensor(shape: [1], storage: [0]))]) }
            reference.step([fresh])
            p.gradient = Tensor(shape: [3], storage: [0.1, -0.3, 0.2])
            optimizer.step([p])
            XCTAssertEqual(p.value[1], fresh.value[0], accuracy: 1e-7, "\(kind)")
        }
    }

    func testAMaskMustFitItsWeightsAndIsSharedByReplicas() throws {
        let p = Parameter(name: "kernel", value: Tensor(shape: [2, 2], storage: [1, 2, 3, 4]))
        XCTAssertThrowsError(try p.setMask([1, 0])) { XCTAssertEqual("\($0)", "a mask of 2 values for kernel, which has 4 weights") }
        let replica = p.replica()
        try p.setMask([1, 1, 0, 1])
        XCTAssertEqual(replica.mask, [1, 1, 0, 1])
        let before = p.version
        Optimizer(.sgd).step([p])
        XCTAssertGreaterThan(p.version, before, "an optimizer step changes the weights")
        XCTAssertEqual(replica.version, p.version)
    }
}

final class KernelTests: XCTestCase {
    func testGEMMMatchesANaiveProduct() {
        var random = RandomGenerator(seed: 1)
        let (m, n, k) = (7, 5, 9)
        let a = (0..<(m * k)).map { _ in random.nextUnitFloat() - 0.5 }
        let b = (0..<(k * n)).map { _ in random.nextUnitFloat() - 0.5 }
        let c = GEMM.product(a, b, m: m, n: n, k: k)
        for i in 0..<m {
            for j in 0..<n {
                var s: Float = 0
                for t in 0..<k { s += a[i * k + t] * b[t * n + j] }
                XCTAssertEqual(c[i * n + j], s, accuracy: 1e-5)
            }
        }
        // Transposed operands: (Bᵀ)ᵀ·... checked through the identity (AB)ᵀ = BᵀAᵀ.
        let ct = GEMM.product(b, a, m: n, n: m, k: k, transposeA: true, transposeB: true)
        for i in 0..<m { for j in 0..<n { XCTAssertEqual(ct[j * m + i], c[i * n + j], accuracy: 1e-5) } }
    }

    /// Products with one row, one column or one term go through sgemv and
    /// sger: every transpose, padded leading dimensions, alpha and beta
    /// (beta 0 over a NaN gives the product, not NaN), against a naive sum.
    func testGEMMWithASingleRowColumnOrTermMatchesANaiveProduct() {
        var random = RandomGenerator(seed: 3)
        for (m, n, k) in [(1, 5, 4), (6, 1, 3), (4, 7, 1), (1, 1, 5), (1, 6, 1), (5, 1, 1), (1, 1, 1), (3, 4, 2)] {
            for transposeA in [false, true] {
                for transposeB in [false, true] {
                    for (alpha, beta) in [(Float(1), Float(0)), (0.5, 1), (2, 0.25)] {
                        let (rowsA, colsA) = transposeA ? (k, m) : (m, k), (rowsB, colsB) = transposeB ? (n, k) : (k, n)
                        let lda = colsA + 2, ldb = colsB + 1, ldc = n + 3
                        let a = (0..<(rowsA * lda)).map { _ in random.nextUnitFloat() - 0.5 }
                        let b = (0..<(rowsB * ldb)).map { _ in random.nextUnitFloat() - 0.5 }
                        var c = (0..<(m * ldc)).map { _ in random.nextUnitFloat() - 0.5 }
                        if beta == 0 { c[0] = .nan }
                        let before = c
                        a.withUnsafeBufferPointer { pa in
                            b.withUnsafeBufferPointer { pb in
                                c.withUnsafeMutableBufferPointer { pc in
                                    GEMM.multiply(pa.baseAddress!, transposeA: transposeA, pb.baseAddress!, transposeB: transposeB,
                                                  into: pc.baseAddress!, m: m, n: n, k: k, alpha: alpha, beta: beta,
                                                  lda: lda, ldb: ldb, ldc: ldc)
                                }
                            }
                        }
                        let shape = "\(m)×\(n)×\(k) \(transposeA) \(transposeB) alpha \(alpha) beta \(beta)"
                        for i in 0..<m {
                            for j in 0..<ldc {
                                guard j < n else { XCTAssertEqual(c[i * ldc + j], before[i * ldc + j], "padding: \(shape)"); continue }
                                var sum: Float = 0
                                for t in 0..<k {
                                    sum += (transposeA ? a[t * lda + i] : a[i * lda + t]) * (transposeB ? b[j * ldb + t] : b[t * ldb + j])
                                }
                                let expected = alpha * sum + (beta == 0 ? 0 : beta * before[i * ldc + j])
                                XCTAssertEqual(c[i * ldc + j], expected, accuracy: 1e-5, shape)
                            }
                        }
                    }
                }
            }
        }
    }

    /// One time step's slice of `[batch, steps, features]` times a weight,
    /// written into a slice of a wider output: through leading dimensions,
    /// the same numbers as copying the slices out and back.
    func testGEMMWithLeadingDimensionsMultipliesSlicesInPlace() {
        var random = RandomGenerator(seed: 2)
        let (batch, steps, features, units) = (4, 3, 5, 6)
        let x = (0..<(batch * steps * features)).map { _ in random.nextUnitFloat() - 0.5 }
        let w = (0..<(features * units)).map { _ in random.nextUnitFloat() - 0.5 }
        let step = 1
        var y = [Float](repeating: 7, count: batch * steps * units)
        x.withUnsafeBufferPointer { xs in
            w.withUnsafeBufferPointer { ws in
                y.withUnsafeMutableBufferPointer { ys in
                    GEMM.multiply(xs.baseAddress! + step * features, ws.baseAddress!, into: ys.baseAddress! + step * units,
                                  m: batch, n: units, k: features, lda: steps * features, ldc: steps * units)
                }
            }
        }
        var slice: [Float] = []
        for b in 0..<batch {
            let first = (b * steps + step) * features
            slice += x[first..<(first + features)]
        }
        let expected = GEMM.product(slice, w, m: batch, n: units, k: features)
        for b in 0..<batch {
            for t in 0..<steps {
                for u in 0..<units {
                    let got = y[(b * steps + t) * units + u]
                    if t == step { XCTAssertEqual(got, expected[b * units + u], accuracy: 1e-6) } else { XCTAssertEqual(got, 7) }
                }
            }
        }
    }

    func testConv2DMatchesADirectConvolution() throws {
        var random = RandomGenerator(seed: 2)
        let conv = try Conv2D(name: "c", input: [5, 6, 2], filters: 3, kernel: Window(3, 2), stride: 2, padding: .same,
                              random: &random)
        for i in 0..<conv.bias.value.count { conv.bias.value[i] = Float(i) * 0.1 }
        var x = Tensor(zeros: [2, 5, 6, 2])
        for i in 0..<x.count { x[i] = random.nextUnitFloat() - 0.5 }
        let y = conv.forward(x, training: false)
        XCTAssertEqual(y.shape, [2, 3, 3, 3])
        // Keras 'same' with stride 2: out 3x3; total padding rows (3−1)·2+3−5 = 2 → 1 on top; cols (3−1)·2+2−6 = 0.
        for s in 0..<2 {
            for oy in 0..<3 {
                for ox in 0..<3 {
                    for f in 0..<3 {
                        var sum = conv.bias.value[f]
                        for ky in 0..<3 {
                            for kx in 0..<2 {
                                let iy = oy * 2 + ky - 1, ix = ox * 2 + kx
                                guard iy >= 0, iy < 5, ix >= 0, ix < 6 else { continue }
                                for c in 0..<2 {
                                    let input = x[((s * 5 + iy) * 6 + ix) * 2 + c]
                                    sum += input * conv.weight.value[((ky * 2 + kx) * 2 + c) * 3 + f]
                                }
                            }
                        }
                        XCTAssertEqual(y[((s * 3 + oy) * 3 + ox) * 3 + f], sum, accuracy: 1e-5)
                    }
                }
            }
        }
    }

    func testShapeErrorsNameTheProblem() throws {
        let model = try Sequential(name: "m", inputShape: [28, 28, 1], random: RandomGenerator(seed: 1))
        XCTAssertThrowsError(try model.add(.dense(units: 10, activation: .relu))) {
            XCTAssertTrue("\($0)".contains("add `flatten`"))
        }
        XCTAssertThrowsError(try model.add(.conv2d(filters: 2, kernel: (30, 3), activation: .relu, stride: 1, padding: .valid))) {
            XCTAssertTrue("\($0)".contains("does not fit a 28x28 input"))
        }
    }

    func testGlorotUniformStaysWithinItsLimitAndIsSeeded() {
        var a = RandomGenerator(seed: 5), b = RandomGenerator(seed: 5)
        let w = Initializer.glorotUniform(shape: [100, 50], fanIn: 100, fanOut: 50, random: &a)
        let limit = Float((6.0 / 150).squareRoot())
        XCTAssertTrue(w.storage.allSatisfy { abs($0) <= limit })
        XCTAssertGreaterThan(w.storage.max()!, limit * 0.95)
        XCTAssertEqual(w, Initializer.glorotUniform(shape: [100, 50], fanIn: 100, fanOut: 50, random: &b))
    }
}

final class TrainingTests: XCTestCase {
    /// Two Gaussian blobs in 2-D: a dense net separates them.
    func blobs(_ n: Int, random: inout RandomGenerator) -> (Tensor, [Int]) {
        var x = Tensor(zeros: [n, 2])
        var labels: [Int] = []
        for i in 0..<n {
            let label = i % 2
            labels.append(label)
            x[i * 2] = (random.nextUnitFloat() - 0.5) + (label == 0 ? -1.5 : 1.5)
            x[i * 2 + 1] = (random.nextUnitFloat() - 0.5) * 2
        }
        return (x, labels)
    }

    func model() throws -> Sequential {
        let m = try Sequential(name: "m", inputShape: [2], random: RandomGenerator(seed: 11))
        try m.add(.dense(units: 8, activation: .relu))
        try m.add(.dense(units: 2, activation: .softmax))
        return m
    }

    func testEveryOptimizerLearnsASeparableProblem() throws {
        for kind in OptimizerKind.allCases {
            var random = RandomGenerator(seed: 4)
            let (x, y) = blobs(400, random: &random)
            let m = try model()
            let lr: Float? = kind == .sgd || kind == .momentum ? 0.1 : 0.01
            let outcome = Trainer.fit(m, on: Dataset(inputs: x, labels: y), options: FitOptions(epochs: 15, batchSize: 16, loss: .crossentropy),
                                      optimizer: Optimizer(kind, learningRate: lr), random: &random, clock: { 0 })
            XCTAssertGreaterThan(outcome.history.last!.accuracy ?? 0, 0.95, "\(kind)")
            XCTAssertLessThan(outcome.history.last!.loss, outcome.history.first!.loss, "\(kind)")
            XCTAssertGreaterThan(Metrics.evaluate(m, on: Dataset(inputs: x, labels: y), loss: .crossentropy).accuracy ?? 0, 0.95, "\(kind)")
        }
    }

    func testSameSeedSameNumbers() throws {
        func run() throws -> [Double] {
            var random = RandomGenerator(seed: 9)
            let (x, y) = blobs(100, random: &random)
            return Trainer.fit(try model(), on: Dataset(inputs: x, labels: y), options: FitOptions(epochs: 2, batchSize: 10, loss: .mse),
                               optimizer: Optimizer(.adam), random: &random, clock: { 0 }).history.map(\.loss)
        }
        XCTAssertEqual(try run(), try run())
    }

    func testAnInterruptedFitKeepsTheWeightsOfItsLastFinishedStep() throws {
        var random = RandomGenerator(seed: 4)
        let (x, y) = blobs(200, random: &random)
        let m = try model()
        var snapshots: [[Float]] = []
        var checks = 0
        let outcome = Trainer.fit(m, on: Dataset(inputs: x, labels: y), options: FitOptions(epochs: 5, batchSize: 10, loss: .crossentropy),
                                  optimizer: Optimizer(.adam), random: &random, clock: { 0 },
                                  shouldStop: { checks += 1; return checks > 7 },
                                  progress: { _ in snapshots.append(m.parameters.flatMap(\.value.storage)) })
        XCTAssertTrue(outcome.interrupted)
        XCTAssertEqual(snapshots.count, 7)
        XCTAssertEqual(m.parameters.flatMap(\.value.storage), snapshots.last!)
    }

    func testConfusionMatrixCountsTrueAgainstPredicted() throws {
        let m = try Sequential(name: "m", inputShape: [2], random: RandomGenerator(seed: 1))
        // No layers: the input is the output, so the predicted class is the larger input.
        let x = Tensor(shape: [4, 2], storage: [1, 0, 0, 1, 1, 0, 0, 1])
        let e = Metrics.evaluate(m, on: Dataset(inputs: x, labels: [0, 1, 1, 1]), loss: .mse)
        XCTAssertEqual(e.confusion ?? [], [[1, 0], [1, 2]])
        XCTAssertEqual(e.accuracy, 0.75)
    }
}

/// Training splits each batch into shards that run on replicas of the model.
final class ShardingTests: XCTestCase {
    func cnn(seed: UInt64, dropout: Bool = false) throws -> Sequential {
        let m = try Sequential(name: "m", inputShape: [8, 8, 1], random: RandomGenerator(seed: seed))
        try m.add(.conv2d(filters: 4, kernel: (3, 3), activation: .relu, stride: 1, padding: .same))
        try m.add(.maxpool(size: (2, 2), stride: nil))
        try m.add(.flatten)
        if dropout { try m.add(.dropout(rate: 0.3)) }
        try m.add(.dense(units: 3, activation: .softmax))
        return m
    }

    func images(_ n: Int, seed: UInt64) -> (Tensor, [Int]) {
        var random = RandomGenerator(seed: seed)
        var x = Tensor(zeros: [n, 8, 8, 1])
        for i in 0..<x.count { x[i] = random.nextUnitFloat() }
        return (x, (0..<n).map { $0 % 3 })
    }

    /// One SGD step on a batch of 32 (four shards of 8) moves every weight
    /// by the learning rate times the whole batch's gradient.
    func testAShardedStepFollowsTheWholeBatchsGradient() throws {
        let (x, y) = images(32, seed: 2)
        let reference = try cnn(seed: 7), trained = try cnn(seed: 7)
        for p in reference.parameters { p.zeroGradient() }
        let output = reference.forward(x, training: true)
        reference.backward(Loss.softmaxCrossEntropyGradient(probabilities: output, labels: y), fromLogits: true)
        var random = RandomGenerator(seed: 1)
        _ = Trainer.fit(trained, on: Dataset(inputs: x, labels: y), options: FitOptions(epochs: 1, batchSize: 32, loss: .crossentropy),
                        optimizer: Optimizer(.sgd, learningRate: 0.5), random: &random, clock: { 0 })
        for (before, after) in zip(reference.parameters, trained.parameters) {
            for i in 0..<before.value.count {
                let expected = before.value[i] - 0.5 * before.gradient[i]
                XCTAssertEqual(after.value[i], expected, accuracy: 1e-5 * max(1, abs(expected)), "\(before.name)[\(i)]")
            }
        }
    }

    func testTheThreadCountDoesNotChangeTheNumbers() throws {
        let saved = Parallel.threads
        defer { Parallel.setThreads(saved) }
        func train(threads: Int) throws -> [Float] {
            Parallel.setThreads(threads)
            let (x, y) = images(80, seed: 3)
            let m = try cnn(seed: 5, dropout: true)
            var random = RandomGenerator(seed: 6)
            _ = Trainer.fit(m, on: Dataset(inputs: x, labels: y), options: FitOptions(epochs: 2, batchSize: 32, loss: .crossentropy),
                            optimizer: Optimizer(.adam), random: &random, clock: { 0 })
            return m.parameters.flatMap(\.value.storage)
        }
        let one = try train(threads: 1)
        XCTAssertEqual(try train(threads: 2), one)
        XCTAssertEqual(try train(threads: 3), one)
    }
}
