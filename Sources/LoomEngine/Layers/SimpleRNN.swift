/// A simple recurrent layer (Keras `SimpleRNN`):
/// `h_t = act(x_t·W + h_{t−1}·U + b)`, the same W, U and b at every step.
/// H·(F+H) + H parameters.
public final class SimpleRNN: RecurrentLayer {
    public init(name: String, input: [Int], units: Int, activation: ActivationFunction = .tanh,
                returnsSequences: Bool = false, prefix: String = "", random: inout RandomGenerator) throws(ShapeError) {
        try super.init(name: name, kind: "rnn", input: input, units: units, gates: 1, activation: activation,
                       returnsSequences: returnsSequences, biasShape: [units], prefix: prefix, random: &random)
    }

    required init(replicating other: RecurrentLayer) { super.init(replicating: other) }

    override public var gateNames: [String] { ["state"] }

    override func runSteps(batch n: Int) {
        let h = units
        for t in 0..<steps {
            projections.withUnsafeMutableBufferPointer { p in
                let z = p.baseAddress! + t * n * h
                if t > 0 { addRecurrentProduct(step: t, batch: n, into: z) }
                activate(z, count: n * h)
                states.withUnsafeMutableBufferPointer { s in (s.baseAddress! + (t + 1) * n * h).update(from: z, count: n * h) }
            }
        }
    }

    override func backwardSteps(_ dHidden: [Float], batch n: Int) -> (input: [Float], recurrent: [Float]?) {
        let h = units
        var dz = RecurrentLayer.stepBuffer(steps * n * h)
        var dhNext = [Float](repeating: 0, count: n * h)
        for t in stride(from: steps - 1, through: 0, by: -1) {
            dz.withUnsafeMutableBufferPointer { d in
                let d0 = d.baseAddress! + t * n * h
                projections.withUnsafeBufferPointer { p in
                    dHidden.withUnsafeBufferPointer { dh in
                        dhNext.withUnsafeBufferPointer { next in
                            let hidden = dh.baseAddress! + t * n * h, next = next.baseAddress!
                            slopes(p.baseAddress! + t * n * h, into: d0, count: n * h)
                            for k in 0..<(n * h) { d0[k] *= hidden[k] + next[k] }
                        }
                    }
                }
                if t > 0 { dhNext.withUnsafeMutableBufferPointer { recurrentGradient(d0, batch: n, into: $0.baseAddress!, adding: false) } }
            }
        }
        return (dz, nil)
    }
}
