/// The learned scale and shift that both normalisation layers apply to each
/// feature (the last axis) once it is normalised: y = γ·x̂ + β, with
/// Keras's names `gamma` (ones to start) and `beta` (zeros).
struct FeatureScale {
    let gamma: Parameter
    let beta: Parameter
    var features: Int { gamma.value.count }

    init(features: Int) {
        gamma = Parameter(name: "gamma", value: Tensor(shape: [features], repeating: 1))
        beta = Parameter(name: "beta", value: Tensor(zeros: [features]))
    }

    init(gamma: Parameter, beta: Parameter) {
        self.gamma = gamma
        self.beta = beta
    }

    /// y = γ·x̂ + β over `count` values, `features` to a row.
    func apply(_ xhat: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<Float>) {
        let c = features
        gamma.value.storage.withUnsafeBufferPointer { g in
            beta.value.storage.withUnsafeBufferPointer { b in
                for row in stride(from: 0, to: count, by: c) {
                    for j in 0..<c { y[row + j] = g[j] * xhat[row + j] + b[j] }
                }
            }
        }
    }

    /// Adds Σ dy·x̂ to γ's gradient and Σ dy to β's, and writes dy·γ (the
    /// gradient with respect to x̂) into `dxhat`.
    func backward(_ dy: UnsafePointer<Float>, xhat: UnsafePointer<Float>, count: Int, dxhat: UnsafeMutablePointer<Float>) {
        let c = features
        gamma.value.storage.withUnsafeBufferPointer { g in
            gamma.gradient.storage.withUnsafeMutableBufferPointer { dg in
                beta.gradient.storage.withUnsafeMutableBufferPointer { db in
                    for row in stride(from: 0, to: count, by: c) {
                        for j in 0..<c {
                            let d = dy[row + j]
                            dg[j] += d * xhat[row + j]
                            db[j] += d
                            dxhat[row + j] = d * g[j]
                        }
                    }
                }
            }
        }
    }
}
