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
