import LoomEngine

/// The slope of `f` at `x` in each value, by central differences of step `eps`.
func numericalGradient(_ x: Tensor, eps: Float = 1e-3, _ f: (Tensor) -> Double) -> [Double] {
    (0..<x.count).map { i in
        var plus = x, minus = x
        plus[i] += eps
        minus[i] -= eps
        return (f(plus) - f(minus)) / (2 * Double(eps))
    }
}
