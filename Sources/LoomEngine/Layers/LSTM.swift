/// Long short-term memory (Keras `LSTM`): gates i, f, c, o in that order,
/// `i = σ(x·Wᵢ + h·Uᵢ + bᵢ)` and so on, `c_t = f·c_{t−1} + i·act(…)`,
/// `h_t = o·act(c_t)`; the forget gate's bias starts at 1. 4·(H·(F+H) + H)
/// parameters.
public final class LSTM: RecurrentLayer, RecurrentCell {
    public static let kind = "lstm"
    public static let summary = "A long short-term memory layer: gated memory, the same weights at every step."
    public static let gates = [RecurrentGate("input"), RecurrentGate("forget", initialBias: 1), RecurrentGate("cell"),
                               RecurrentGate("output")]
    public static let biasRows = 1

    /// Cell states `[steps + 1, n, units]` and their activations `[steps, n, units]`.
    private var cells: [Float] = []
    private var cellOutputs: [Float] = []

    public var extraFloatsPerSample: Int { (steps + 1) * units + steps * units }

    /// The gates' functions as `FastMath.logistic` coefficients, when the
    /// candidate's activation is one of them (tanh, sigmoid): σ for i, f and o.
    private lazy var gateCoefficients: [Float]? = {
        let sigmoid: [Float] = [-1, 1, 0], candidate: [Float]
        switch activation {
        case .tanh: candidate = [2, -2, 1]
        case .sigmoid: candidate = sigmoid
        case .relu, .linear, .softmax: return nil
        }
        return (0..<3).flatMap { k in (0..<4).flatMap { gate in Array(repeating: gate == 2 ? candidate[k] : sigmoid[k], count: units) } }
    }()

    public func runSteps(batch n: Int) {
        let h = units, w = width
        cells = RecurrentLayer.stepBuffer((steps + 1) * n * h, zeroed: n * h)
        cellOutputs = RecurrentLayer.stepBuffer(steps * n * h)
        let coefficients = gateCoefficients
        // The buffers' addresses taken once for all steps: inside the loops
        // no array is touched, so nothing is retained or checked per row.
        projections.withUnsafeMutableBufferPointer { p in
            cells.withUnsafeMutableBufferPointer { c in
                cellOutputs.withUnsafeMutableBufferPointer { a in
                    states.withUnsafeMutableBufferPointer { s in
                        (coefficients ?? []).withUnsafeBufferPointer { k in
                            for t in 0..<steps {
                                runStep(t, batch: n, gates: p.baseAddress! + t * n * w, cells: c.baseAddress! + t * n * h,
                                        cellOutputs: a.baseAddress! + t * n * h, states: s.baseAddress! + t * n * h,
                                        coefficients: coefficients == nil ? nil : k.baseAddress)
                            }
                        }
                    }
                }
            }
        }
    }

    /// Step t: `gates` holds its input projection, `cells` and `states` the
    /// step before's cell and hidden states, followed by this step's.
    @inline(__always)
    private func runStep(_ t: Int, batch n: Int, gates z0: UnsafeMutablePointer<Float>, cells previous0: UnsafeMutablePointer<Float>,
                         cellOutputs act0: UnsafeMutablePointer<Float>, states: UnsafeMutablePointer<Float>,
                         coefficients: UnsafePointer<Float>?) {
        let h = units, w = width
        let cell0 = previous0 + n * h, state0 = states + n * h
        if t > 0 { addRecurrentProduct(from: states, batch: n, into: z0) }
        if let coefficients { FastMath.logistic(z0, rows: n, width: w, coefficients: coefficients) }
        for r in 0..<n {
            // Row r's gates, in place: i, f, c, o (each by its own function).
            let z = z0 + r * w
            if coefficients == nil {
                FastMath.sigmoid(z, count: 2 * h)
                activate(z + 2 * h, count: h)
                FastMath.sigmoid(z + 3 * h, count: h)
            }
            // c = f·c₋₁ + i·ĉ, eight units at a time (as in the backward loop).
            let previous = previous0 + r * h, cell = cell0 + r * h
            @inline(__always) func update(from j: Int, lanes k: Int) {
                let i = Vector.load(z + j, lanes: k), f = Vector.load(z + h + j, lanes: k)
                let candidate = Vector.load(z + 2 * h + j, lanes: k)
                Vector.store(f * Vector.load(previous + j, lanes: k) + i * candidate, cell + j, lanes: k)
            }
            for j in Vector.Covering(h) { update(from: j, lanes: 8) }
            if h < 8 { update(from: 0, lanes: h) }
        }
        // The step's cell states are contiguous: one activation for all rows.
        activate(cell0, into: act0, count: n * h)
        for r in 0..<n {
            let o = z0 + r * w + 3 * h, act = act0 + r * h, state = state0 + r * h
            @inline(__always) func output(from j: Int, lanes k: Int) {
                Vector.store(Vector.load(o + j, lanes: k) * Vector.load(act + j, lanes: k), state + j, lanes: k)
            }
            for j in Vector.Covering(h) { output(from: j, lanes: 8) }
            if h < 8 { output(from: 0, lanes: h) }
        }
    }

    /// Backward through time, specialised for the cell's activation so its
    /// slopes are computed inside the loop over units.
    public func backwardSteps<S: ActivationSlope>(_ dHidden: [Float], batch n: Int, slope: S.Type) -> (input: [Float], recurrent: [Float]?) {
        let h = units, w = width
        var dz = RecurrentLayer.stepBuffer(steps * n * w)
        // The hidden and cell states' gradients from the step after, and the
        // cell state's gradient this step passes back: apart, so the loop
        // below never writes what it reads.
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 3 * n * h)
        defer { scratch.deallocate() }
        scratch.initialize(repeating: 0, count: 3 * n * h)
        let dhNext = scratch
        var dcNext = scratch + n * h, dcPassed = dcNext + n * h
        dz.withUnsafeMutableBufferPointer { d in
            projections.withUnsafeBufferPointer { p in
                cells.withUnsafeBufferPointer { c in
                    cellOutputs.withUnsafeBufferPointer { a in
                        dHidden.withUnsafeBufferPointer { dh in
                            for t in stride(from: steps - 1, through: 0, by: -1) {
                                let d0 = d.baseAddress! + t * n * w
                                for r in 0..<n {
                                    let z = p.baseAddress! + (t * n + r) * w, g = d0 + r * w
                                    let previous = c.baseAddress! + (t * n + r) * h, act = a.baseAddress! + (t * n + r) * h
                                    let hidden = dh.baseAddress! + (t * n + r) * h
                                    let dhNext = dhNext + r * h, dcNext = dcNext + r * h, dcPassed = dcPassed + r * h
                                    // Eight units at a time (the optimiser does not vectorise it
                                    // by itself: too many pointers that might alias). `k` lanes
                                    // from unit j; inlined at each call, so k is a constant.
                                    @inline(__always) func units(from j: Int, lanes k: Int) {
                                        let i = Vector.load(z + j, lanes: k), f = Vector.load(z + h + j, lanes: k)
                                        let cand = Vector.load(z + 2 * h + j, lanes: k), o = Vector.load(z + 3 * h + j, lanes: k)
                                        let cellOutput = Vector.load(act + j, lanes: k)
                                        let dState = Vector.load(hidden + j, lanes: k) + Vector.load(dhNext + j, lanes: k)
                                        let dCell = dState * o * S.slope(cellOutput) + Vector.load(dcNext + j, lanes: k)
                                        Vector.store(dCell * f, dcPassed + j, lanes: k)
                                        Vector.store(dCell * cand * i * (1 - i), g + j, lanes: k)
                                        Vector.store(dCell * Vector.load(previous + j, lanes: k) * f * (1 - f), g + h + j, lanes: k)
                                        Vector.store(dCell * i * S.slope(cand), g + 2 * h + j, lanes: k)
                                        Vector.store(dState * cellOutput * o * (1 - o), g + 3 * h + j, lanes: k)
                                    }
                                    // The loop writes nothing it reads: vectors may overlap.
                                    for j in Vector.Covering(h) { units(from: j, lanes: 8) }
                                    if h < 8 { units(from: 0, lanes: h) }
                                }
                                if t > 0 { recurrentGradient(d0, batch: n, into: dhNext, adding: false) }
                                swap(&dcNext, &dcPassed)
                            }
                        }
                    }
                }
            }
        }
        return (dz, nil)
    }
}
