import LoomEngine
import XCTest

/// Every layer's backward against central finite differences of its forward.
/// The check uses L = Σ wᵢ·yᵢ with fixed random weights w, so dL/dy = w.
final class GradientTests: XCTestCase {
    var random = RandomGenerator(seed: 42)

    func randomTensor(_ shape: [Int], scale: Float = 1, awayFromZero: Bool = false) -> Tensor {
        var t = Tensor(zeros: shape)
        for i in 0..<t.count {
            var v = (random.nextUnitFloat() * 2 - 1) * scale
            if awayFromZero && abs(v) < 0.1 { v += v < 0 ? -0.2 : 0.2 }  // no kinks (relu) near the probe
            t[i] = v
        }
        return t
    }

    func loss(_ y: Tensor, _ w: Tensor) -> Double {
        var total = 0.0
        for i in 0..<y.count { total += Double(y[i]) * Double(w[i]) }
        return total
    }

    /// Checks dL/dx and dL/dθ of `layer` at `x`; `eps` is the probe step.
    func check(_ layer: Layer, input x: Tensor, eps: Float = 1e-2, tolerance: Double = 2e-2,
               file: StaticString = #filePath, line: UInt = #line) {
        let y = layer.forward(x, training: true)
        let w = randomTensor(y.shape)
        for p in layer.parameters { p.zeroGradient() }
        let dx = layer.backward(w)
        XCTAssertEqual(dx.shape, x.shape, file: file, line: line)

        func numeric(_ perturb: (Float) -> Void) -> Double {
            perturb(eps)
            let plus = loss(layer.forward(x, training: false), w)
            perturb(-2 * eps)
            let minus = loss(layer.forward(x, training: false), w)
            perturb(eps)
            return (plus - minus) / (2 * Double(eps))
        }
        func compare(_ analytic: Double, _ numerical: Double, _ what: String) {
            let scale = max(1, abs(analytic), abs(numerical))
            XCTAssertLessThan(abs(analytic - numerical) / scale, tolerance,
                              "\(layer.kind) \(what): analytic \(analytic) vs numeric \(numerical)", file: file, line: line)
        }
        for i in stride(from: 0, to: x.count, by: max(1, x.count / 40)) {
            var plus = x, minus = x
            plus[i] += eps
            minus[i] -= eps
            let numerical = (loss(layer.forward(plus, training: false), w) - loss(layer.forward(minus, training: false), w))
                / (2 * Double(eps))
            compare(Double(dx[i]), numerical, "input[\(i)]")
        }
        for p in layer.parameters {
            for i in stride(from: 0, to: p.value.count, by: max(1, p.value.count / 40)) {
                let numerical = numeric { d in
                    p.value[i] += d
                    p.markChanged()  // a layer may keep values derived from the weights (a hashed layer's V)
                }
                compare(Double(p.gradient[i]), numerical, "\(p.name)[\(i)]")
            }
        }
    }

    /// Values spaced 0.1 apart in random order: no two within a probe step
    /// of each other, so max pooling has no near-ties.
    func distinctTensor(_ shape: [Int]) -> Tensor {
        let n = shape.reduce(1, *)
        var values = (0..<n).map { Float($0) * 0.1 - Float(n) * 0.05 }
        values.shuffle(using: &random)
        return Tensor(shape: shape, storage: values)
    }

    func testDense() {
        check(Dense(name: "d", inputs: 7, units: 5, random: &random), input: randomTensor([3, 7]))
    }

    func testConv2DValidAndSameWithStrides() throws {
        for (kernel, stride, padding) in [((3, 3), 1, Conv2D.Padding.valid), ((3, 3), 2, .same), ((2, 3), 1, .same),
                                          ((3, 2), 2, .valid), ((1, 1), 1, .valid)] {
            let conv = try Conv2D(name: "c", input: [6, 5, 2], filters: 3, kernel: Window(kernel.0, kernel.1), stride: stride,
                                  padding: padding, random: &random)
            check(conv, input: randomTensor([2, 6, 5, 2]))
        }
    }

    func testPooling() throws {
        check(try Pooling2D(name: "p", mode: .max, input: [4, 6, 2], size: Window(2, 2), stride: nil), input: distinctTensor([2, 4, 6, 2]))
        check(try Pooling2D(name: "p", mode: .max, input: [5, 5, 1], size: Window(3, 3), stride: 1), input: distinctTensor([2, 5, 5, 1]))
        // Four channels at a time (the SSE path), twice, then a partial group of three.
        check(try Pooling2D(name: "p", mode: .max, input: [4, 5, 11], size: Window(2, 2), stride: 1), input: distinctTensor([2, 4, 5, 11]))
        check(try Pooling2D(name: "p", mode: .average, input: [4, 6, 2], size: Window(2, 2), stride: nil), input: randomTensor([2, 4, 6, 2]))
        check(try Pooling2D(name: "p", mode: .average, input: [5, 5, 1], size: Window(2, 3), stride: 1), input: randomTensor([1, 5, 5, 1]))
    }

    func testActivations() {
        for f in ActivationFunction.allCases {
            check(Activation(name: "a", function: f, shape: [6]), input: randomTensor([3, 6], scale: 2, awayFromZero: true))
        }
    }

    func testActivationsOnLengthsThatAreNotWholeVectors() {
        for f in ActivationFunction.allCases {
            check(Activation(name: "a", function: f, shape: [19]), input: randomTensor([2, 19], scale: 2, awayFromZero: true))
        }
    }

    /// Training reuses a convolution's patch buffer from batch to batch; the
    /// zeros of `same` padding must survive the reuse.
    func testConvolutionReusingItsBuffersGivesWhatAFreshPassGives() throws {
        var seeded = RandomGenerator(seed: 5)
        let conv = try Conv2D(name: "c", input: [5, 5, 3], filters: 4, kernel: Window(3, 3), stride: 1, padding: .same,
                              random: &seeded)
        for _ in 0..<3 {
            let x = randomTensor([2, 5, 5, 3])
            let fresh = conv.forward(x, training: false)
            let trained = conv.forward(x, training: true)
            _ = conv.backward(randomTensor(trained.shape))
            XCTAssertEqual(trained, fresh)
        }
    }

    func testFlatten() {
        check(Flatten(name: "f", input: [2, 3, 2]), input: randomTensor([2, 2, 3, 2]))
    }

    func testReshape() {
        check(Reshape(name: "r", input: [12], output: [2, 3, 2]), input: randomTensor([2, 12]))
    }

    func testDropoutScalesKeptUnitsAndPassesGradientThroughTheSameMask() throws {
        let dropout = try Dropout(name: "d", rate: 0.25, input: [1000], random: &random)
        let ones = Tensor(shape: [1, 1000], repeating: 1)
        let y = dropout.forward(ones, training: true)
        let kept = y.storage.filter { $0 != 0 }
        XCTAssertTrue(kept.allSatisfy { abs($0 - 1 / 0.75) < 1e-6 })
        XCTAssertEqual(Double(kept.count) / 1000, 0.75, accuracy: 0.05)
        let g = randomTensor([1, 1000])
        let dx = dropout.backward(g)
        for i in 0..<1000 { XCTAssertEqual(dx[i], g[i] * y[i], accuracy: 1e-6) }
        XCTAssertEqual(dropout.forward(ones, training: false), ones)
    }

    func testLossGradients() {
        let labels = [2, 0, 3]
        for loss in [Loss.crossentropy, .mse, .bce] {
            var p = randomTensor([3, 4], scale: 0.4)
            for i in 0..<p.count { p[i] = abs(p[i]) + 0.05 }
            let (_, g) = loss.evaluate(p, labels: labels)
            let eps: Float = 1e-3
            for i in 0..<p.count {
                var plus = p, minus = p
                plus[i] += eps
                minus[i] -= eps
                let numerical = (loss.evaluate(plus, labels: labels).loss - loss.evaluate(minus, labels: labels).loss) / (2 * Double(eps))
                XCTAssertEqual(Double(g[i]), numerical, accuracy: 2e-2 * max(1, abs(numerical)), "\(loss) [\(i)]")
            }
        }
    }

    func testFusedSoftmaxCrossEntropyMatchesFiniteDifferencesOfTheLogits() {
        let logits = randomTensor([3, 5], scale: 3)
        let labels = [4, 1, 0]
        let softmax = Activation(name: "s", function: .softmax, shape: [5])
        func lossAt(_ z: Tensor) -> Double { Loss.crossentropy.evaluate(softmax.forward(z, training: false), labels: labels).loss }
        let g = Loss.softmaxCrossEntropyGradient(probabilities: softmax.forward(logits, training: false), labels: labels)
        let eps: Float = 1e-2
        for i in 0..<logits.count {
            var plus = logits, minus = logits
            plus[i] += eps
            minus[i] -= eps
            XCTAssertEqual(Double(g[i]), (lossAt(plus) - lossAt(minus)) / (2 * Double(eps)), accuracy: 2e-3)
        }
    }

    /// A model runs relu-then-max-pooling as pooling-then-relu; outputs and
    /// gradients must be those of the layers in the order written.
    func testReluThenMaxPoolingGivesWhatTheWrittenOrderGives() throws {
        let model = try Sequential(name: "m", inputShape: [6, 6, 2], random: RandomGenerator(seed: 8))
        try model.add(.conv2d(filters: 3, kernel: (3, 3), activation: .relu, stride: 1, padding: .valid))
        try model.add(.maxpool(size: (2, 2), stride: nil))
        try model.add(.flatten)
        try model.add(.dense(units: 4, activation: .softmax))
        let x = randomTensor([3, 6, 6, 2])
        let labels = [0, 3, 1]
        for p in model.parameters { p.zeroGradient() }
        var written = x
        for layer in model.layers { written = layer.forward(written, training: true) }
        var g = Loss.softmaxCrossEntropyGradient(probabilities: written, labels: labels)
        for layer in model.layers.dropLast().reversed() { g = layer.backward(g) }
        let writtenGradients = model.parameters.map(\.gradient)

        for p in model.parameters { p.zeroGradient() }
        let out = model.forward(x, training: true)
        model.backward(Loss.softmaxCrossEntropyGradient(probabilities: out, labels: labels), fromLogits: true)
        XCTAssertEqual(out, written)
        XCTAssertEqual(model.parameters.map(\.gradient), writtenGradients)
        XCTAssertTrue(writtenGradients[0].storage.contains { $0 != 0 })
    }

    func testWholeCNNGradientWithTheFusedLoss() throws {
        let model = try Sequential(name: "m", inputShape: [6, 6, 1], random: RandomGenerator(seed: 3))
        try model.add(.conv2d(filters: 2, kernel: (3, 3), activation: .tanh, stride: 1, padding: .valid))
        try model.add(.maxpool(size: (2, 2), stride: nil))
        try model.add(.flatten)
        try model.add(.dense(units: 3, activation: .softmax))
        let x = randomTensor([4, 6, 6, 1])
        let labels = [0, 2, 1, 2]
        for p in model.parameters { p.zeroGradient() }
        let out = model.forward(x, training: true)
        model.backward(Loss.softmaxCrossEntropyGradient(probabilities: out, labels: labels), fromLogits: true)
        let eps: Float = 1e-2
        for p in model.parameters {
            for i in stride(from: 0, to: p.value.count, by: 3) {
                p.value[i] += eps
                let plus = Loss.crossentropy.evaluate(model.forward(x, training: false), labels: labels).loss
                p.value[i] -= 2 * eps
                let minus = Loss.crossentropy.evaluate(model.forward(x, training: false), labels: labels).loss
                p.value[i] += eps
                let numerical = (plus - minus) / (2 * Double(eps))
                XCTAssertEqual(Double(p.gradient[i]), numerical, accuracy: 2e-2 * max(1, abs(numerical)), "\(p.name)[\(i)]")
            }
        }
    }
}
