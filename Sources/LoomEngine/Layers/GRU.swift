/// Gated recurrent unit (Keras `GRU`, `reset_after=True`): gates z, r, h in
/// that order, `z = σ(x·W_z + b_z + h·U_z + b'_z)`, the same for r,
/// `ĥ = act(x·W_h + b_h + r·(h·U_h + b'_h))`, `h_t = z·h_{t−1} + (1−z)·ĥ`.
/// The bias has two rows, for the input and for the recurrent product:
/// 3·H·(F+H) + 6·H parameters.
public final class GRU: RecurrentLayer, RecurrentCell {
    public static let kind = "gru"
    public static let summary = "A gated recurrent unit layer: an LSTM's gates in fewer weights."
    public static let gates = [RecurrentGate("update"), RecurrentGate("reset"), RecurrentGate("candidate")]
    /// The input's bias and the recurrent product's.
    public static let biasRows = 2

    /// Each step's recurrent product with its bias, `[steps, n, 3·units]`:
    /// the reset gate scales its third part, so it is kept apart.
    private var recurrent: [Float] = []

    public var extraFloatsPerSample: Int { 2 * steps * width }

    public func runSteps(batch n: Int) {
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
                            Vector.add(u, into: x, count: 2 * h)
                            FastMath.sigmoid(x, count: 2 * h)
                            // The candidate's input plus r·(its recurrent part), eight at a
                            // time; in place, so a short last vector rather than an overlap.
                            @inline(__always) func candidate(from j: Int, lanes k: Int) {
                                let c = x + 2 * h + j
                                let reset = Vector.load(x + h + j, lanes: k), recurrent = Vector.load(u + 2 * h + j, lanes: k)
                                Vector.store(Vector.load(c, lanes: k) + reset * recurrent, c, lanes: k)
                            }
                            var j = 0
                            while j + 8 <= h { candidate(from: j, lanes: 8); j += 8 }
                            if j < h { candidate(from: j, lanes: h - j) }
                            activate(x + 2 * h, count: h)
                            // h_t = z·h_{t−1} + (1 − z)·ĥ: writes only the state, so vectors may overlap.
                            let previous = s.baseAddress! + (t * n + r) * h, state = previous + n * h
                            @inline(__always) func update(from j: Int, lanes k: Int) {
                                let z = Vector.load(x + j, lanes: k)
                                Vector.store(z * Vector.load(previous + j, lanes: k) + (1 - z) * Vector.load(x + 2 * h + j, lanes: k),
                                             state + j, lanes: k)
                            }
                            for j in Vector.Covering(h) { update(from: j, lanes: 8) }
                            if h < 8 { update(from: 0, lanes: h) }
                        }
                    }
                }
            }
        }
    }

    /// Backward through time, specialised for the candidate's activation (as
    /// the LSTM's), eight units at a time.
    public func backwardSteps<S: ActivationSlope>(_ dHidden: [Float], batch n: Int, slope: S.Type) -> (input: [Float], recurrent: [Float]?) {
        let h = units, w = width
        var dx = RecurrentLayer.stepBuffer(steps * n * w), du = RecurrentLayer.stepBuffer(steps * n * w)
        // The hidden state's gradient from the step after.
        let dhNext0 = UnsafeMutablePointer<Float>.allocate(capacity: n * h)
        defer { dhNext0.deallocate() }
        dhNext0.initialize(repeating: 0, count: n * h)
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
                                        // `k` units from j; dhNext is read and written in place, so
                                        // whole vectors and one short one, never overlapping.
                                        @inline(__always) func units(from j: Int, lanes k: Int) {
                                            let z = Vector.load(x + j, lanes: k), reset = Vector.load(x + h + j, lanes: k)
                                            let candidate = Vector.load(x + 2 * h + j, lanes: k)
                                            let dState = Vector.load(hidden + j, lanes: k) + Vector.load(dhNext + j, lanes: k)
                                            let dCandidate = dState * (1 - z) * S.slope(candidate)
                                            let dz = dState * (Vector.load(previous + j, lanes: k) - candidate) * z * (1 - z)
                                            let dReset = dCandidate * Vector.load(u + 2 * h + j, lanes: k) * reset * (1 - reset)
                                            Vector.store(dz, a + j, lanes: k)
                                            Vector.store(dReset, a + h + j, lanes: k)
                                            Vector.store(dCandidate, a + 2 * h + j, lanes: k)
                                            Vector.store(dz, b + j, lanes: k)
                                            Vector.store(dReset, b + h + j, lanes: k)
                                            Vector.store(dCandidate * reset, b + 2 * h + j, lanes: k)
                                            // The direct path; the product's part is added below.
                                            Vector.store(dState * z, dhNext + j, lanes: k)
                                        }
                                        var j = 0
                                        while j + 8 <= h { units(from: j, lanes: 8); j += 8 }
                                        if j < h { units(from: j, lanes: h - j) }
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
