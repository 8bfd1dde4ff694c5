/// Gated recurrent unit (Keras `GRU`, `reset_after=True`): gates z, r, h in
/// that order, `z = σ(x·W_z + b_z + h·U_z + b'_z)`, the same for r,
/// `ĥ = act(x·W_h + b_h + r·(h·U_h + b'_h))`, `h_t = z·h_{t−1} + (1−z)·ĥ`.
/// The bias has two rows, for the input and for the recurrent product:
/// 3·H·(F+H) + 6·H parameters.
public final class GRU: RecurrentLayer {
    /// Each step's recurrent product with its bias, `[steps, n, 3·units]`:
    /// the reset gate scales its third part, so it is kept apart.
    private var recurrent: [Float] = []

    public init(name: String, input: [Int], units: Int, activation: ActivationFunction = .tanh,
                returnsSequences: Bool = false, prefix: String = "", random: inout RandomGenerator) throws(ShapeError) {
        try super.init(name: name, kind: "gru", input: input, units: units, gates: 3, activation: activation,
                       returnsSequences: returnsSequences, biasShape: [2, 3 * units], prefix: prefix, random: &random)
    }

    required init(replicating other: RecurrentLayer) { super.init(replicating: other) }

    override public var gateNames: [String] { ["update", "reset", "candidate"] }

    override var extraFloatsPerSample: Int { 2 * steps * width }

    override func runSteps(batch n: Int) {
        let h = units, w = width
        let recurrentBias = Array(bias.value.storage[w...])
        recurrent = [Float](unsafeUninitializedCapacity: steps * n * w) { buffer, count in
            count = steps * n * w
            GEMM.fillRows(buffer.baseAddress!, rows: steps * n, with: recurrentBias)
        }
        for t in 0..<steps {
            recurrent.withUnsafeMutableBufferPointer { q in
                let u0 = q.baseAddress! + t * n * w
                if t > 0 { addRecurrentProduct(step: t, batch: n, into: u0) }
                projections.withUnsafeMutableBufferPointer { p in
                    states.withUnsafeMutableBufferPointer { s in
                        for r in 0..<n {
                            // Row r's gates, in place: z and r, then the candidate.
                            let x = p.baseAddress! + (t * n + r) * w, u = u0 + r * w
                            for j in 0..<(2 * h) { x[j] += u[j] }
                            FastMath.sigmoid(x, count: 2 * h)
                            for j in 0..<h { x[2 * h + j] += x[h + j] * u[2 * h + j] }
                            activate(x + 2 * h, count: h)
                            let previous = s.baseAddress! + (t * n + r) * h, state = previous + n * h
                            for j in 0..<h { state[j] = x[j] * previous[j] + (1 - x[j]) * x[2 * h + j] }
                        }
                    }
                }
            }
        }
    }

    override func backwardSteps(_ dHidden: [Float], batch n: Int) -> (input: [Float], recurrent: [Float]?) {
        let h = units, w = width
        var dx = RecurrentLayer.stepBuffer(steps * n * w), du = RecurrentLayer.stepBuffer(steps * n * w)
        // The hidden state's gradient from the step after, and each row's
        // candidate slopes, so the gradient loop is plain arithmetic.
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: n * h + h)
        defer { scratch.deallocate() }
        scratch.initialize(repeating: 0, count: n * h + h)
        let dhNext0 = scratch, candidateSlope = scratch + n * h
        // The buffers' addresses taken once for all steps, as in the LSTM.
        dx.withUnsafeMutableBufferPointer { gx in
            du.withUnsafeMutableBufferPointer { gu in
                projections.withUnsafeBufferPointer { p in
                    recurrent.withUnsafeBufferPointer { q in
                        states.withUnsafeBufferPointer { s in
                            dHidden.withUnsafeBufferPointer { dh in
                                for t in stride(from: steps - 1, through: 0, by: -1) {
                                    let dx0 = gx.baseAddress! + t * n * w, du0 = gu.baseAddress! + t * n * w
                                    for r in 0..<n {
                                        let x = p.baseAddress! + (t * n + r) * w, u = q.baseAddress! + (t * n + r) * w
                                        let previous = s.baseAddress! + (t * n + r) * h, hidden = dh.baseAddress! + (t * n + r) * h
                                        let a = dx0 + r * w, b = du0 + r * w, dhNext = dhNext0 + r * h
                                        slopes(x + 2 * h, into: candidateSlope, count: h)
                                        for j in 0..<h {
                                            let z = x[j], reset = x[h + j], candidate = x[2 * h + j]
                                            let dState = hidden[j] + dhNext[j]
                                            let dCandidate = dState * (1 - z) * candidateSlope[j]
                                            let dz = dState * (previous[j] - candidate) * z * (1 - z)
                                            let dReset = dCandidate * u[2 * h + j] * reset * (1 - reset)
                                            a[j] = dz
                                            a[h + j] = dReset
                                            a[2 * h + j] = dCandidate
                                            b[j] = dz
                                            b[h + j] = dReset
                                            b[2 * h + j] = dCandidate * reset
                                            dhNext[j] = dState * z  // the direct path; the product's part is added below
                                        }
                                    }
                                    if t > 0 { recurrentGradient(du0, batch: n, into: dhNext0, adding: true) }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (dx, du)
    }
}
