import LoomEngine
import XCTest

/// The slope of `f` at `x` in each value, by central differences of step `eps`.
func numericalGradient(_ x: Tensor, eps: Float = 1e-3, _ f: (Tensor) -> Double) -> [Double] {
    (0..<x.count).map { i in
        var plus = x, minus = x
        plus[i] += eps
        minus[i] -= eps
        return (f(plus) - f(minus)) / (2 * Double(eps))
    }
}

/// A layer whose `weight` trains through its pattern against central
/// differences of L = Σ c·y at `x`, the forward itself through the sparse
/// kernel: the input gradient, and the weight gradient at the pattern's
/// places (left in `weight.sparseGradient`, with the bias's gradient).
func checkSparseGradients(_ layer: Layer, weight: Parameter, x: Tensor, c: Tensor,
                          file: StaticString = #filePath, line: UInt = #line) throws {
    let pattern = try XCTUnwrap(weight.sparsePattern, file: file, line: line)
    func loss(_ input: Tensor) -> Double {
        weight.prepareSparseValues()
        let y = layer.forward(input, training: true)
        return (0..<y.count).reduce(0.0) { $0 + Double(y[$1] * c[$1]) }
    }
    _ = loss(x)
    for p in layer.parameters { p.zeroGradient() }
    let dx = layer.backward(c)
    for (i, expected) in numericalGradient(x, { loss($0) }).enumerated() {
        XCTAssertEqual(Double(dx[i]), expected, accuracy: 2e-3, "input \(i)", file: file, line: line)
    }
    let analytic = weight.sparseGradient
    XCTAssertEqual(analytic.count, pattern.count, file: file, line: line)
    let weights = Tensor(shape: [pattern.count], storage: pattern.positions.map { weight.value[$0] })
    let numeric = numericalGradient(weights) { w in
        for (k, place) in pattern.positions.enumerated() { weight.value[place] = w[k] }
        weight.markChanged()
        return loss(x)
    }
    for k in 0..<min(analytic.count, pattern.count) {
        XCTAssertEqual(Double(analytic[k]), numeric[k], accuracy: 2e-3, "weight \(k)", file: file, line: line)
    }
}

/// The slope of `loss` in each value of `p`, by central differences of step
/// `eps`, each value put back after its probe.
func numericalGradient(of p: Parameter, eps: Float, _ loss: () -> Double) -> [Double] {
    (0..<p.value.count).map { i in
        p.value[i] += eps
        let plus = loss()
        p.value[i] -= 2 * eps
        let minus = loss()
        p.value[i] += eps
        return (plus - minus) / (2 * Double(eps))
    }
}
