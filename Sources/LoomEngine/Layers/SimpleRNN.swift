/// A simple recurrent layer (Keras `SimpleRNN`):
/// `h_t = act(x_t·W + h_{t−1}·U + b)`, the same W, U and b at every step.
/// H·(F+H) + H parameters.
public final class SimpleRNN: RecurrentLayer, RecurrentCell {
    public static let kind = "rnn"
    public static let summary = "A simple recurrent layer: the same weights at every time step."
    /// The state is the one gate: its activated projection.
    public static let gates = [RecurrentGate("state")]
    public static let biasRows = 1

    public var extraFloatsPerSample: Int { 0 }

    public func runSteps(batch n: Int) {
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

    public func backwardSteps<S: ActivationSlope>(_ dHidden: [Float], batch n: Int, slope: S.Type) -> (input: [Float], recurrent: [Float]?) {
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
                            SimpleRNN.slopes(p.baseAddress! + t * n * h, into: d0, count: n * h, slope: S.self)
                            for k in 0..<(n * h) { d0[k] *= hidden[k] + next[k] }
                        }
                    }
                }
                if t > 0 { dhNext.withUnsafeMutableBufferPointer { recurrentGradient(d0, batch: n, into: $0.baseAddress!, adding: false) } }
            }
        }
        return (dz, nil)
    }

    /// The activation's derivative at each of `count` outputs `y`, eight at a time.
    private static func slopes<S: ActivationSlope>(_ y: UnsafePointer<Float>, into d: UnsafeMutablePointer<Float>, count: Int,
                                                   slope: S.Type) {
        @inline(__always) func values(from i: Int, lanes k: Int) { Vector.store(S.slope(Vector.load(y + i, lanes: k)), d + i, lanes: k) }
        var i = 0
        while i + 8 <= count { values(from: i, lanes: 8); i += 8 }
        if i < count { values(from: i, lanes: count - i) }
    }
}
