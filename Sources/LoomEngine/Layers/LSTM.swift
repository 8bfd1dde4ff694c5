/// Long short-term memory (Keras `LSTM`): gates i, f, c, o in that order,
/// `i = σ(x·Wᵢ + h·Uᵢ + bᵢ)` and so on, `c_t = f·c_{t−1} + i·act(…)`,
/// `h_t = o·act(c_t)`; the forget gate's bias starts at 1. 4·(H·(F+H) + H)
/// parameters.
public final class LSTM: RecurrentLayer {
    /// Cell states `[steps + 1, n, units]` and their activations `[steps, n, units]`.
    private var cells: [Float] = []
    private var cellOutputs: [Float] = []

    public init(name: String, input: [Int], units: Int, activation: ActivationFunction = .tanh,
                returnsSequences: Bool = false, prefix: String = "", random: inout RandomGenerator) throws(ShapeError) {
        try super.init(name: name, kind: "lstm", input: input, units: units, gates: 4, activation: activation,
                       returnsSequences: returnsSequences, biasShape: [4 * units], prefix: prefix, random: &random)
        for j in units..<(2 * units) { bias.value[j] = 1 }  // unit_forget_bias
    }

    required init(replicating other: RecurrentLayer) { super.init(replicating: other) }

    override public var gateNames: [String] { ["input", "forget", "cell", "output"] }

    override var extraFloatsPerSample: Int { (steps + 1) * units + steps * units }

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

    override func runSteps(batch n: Int) {
        let h = units, w = width
        cells = RecurrentLayer.stepBuffer((steps + 1) * n * h, zeroed: n * h)
        cellOutputs = RecurrentLayer.stepBuffer(steps * n * h)
        let coefficients = gateCoefficients
        for t in 0..<steps {
            projections.withUnsafeMutableBufferPointer { p in
                let z0 = p.baseAddress! + t * n * w
                if t > 0 { addRecurrentProduct(step: t, batch: n, into: z0) }
                if let coefficients {
                    coefficients.withUnsafeBufferPointer { FastMath.logistic(z0, rows: n, width: w, coefficients: $0.baseAddress!) }
                }
                cells.withUnsafeMutableBufferPointer { c in
                    cellOutputs.withUnsafeMutableBufferPointer { a in
                        states.withUnsafeMutableBufferPointer { s in
                            let previous0 = c.baseAddress! + t * n * h, cell0 = previous0 + n * h
                            let act0 = a.baseAddress! + t * n * h, state0 = s.baseAddress! + (t + 1) * n * h
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
                            act0.update(from: cell0, count: n * h)
                            activate(act0, count: n * h)
                            for r in 0..<n {
                                let o = z0 + r * w + 3 * h, act = act0 + r * h, state = state0 + r * h
                                @inline(__always) func output(from j: Int, lanes k: Int) {
                                    Vector.store(Vector.load(o + j, lanes: k) * Vector.load(act + j, lanes: k), state + j, lanes: k)
                                }
                                for j in Vector.Covering(h) { output(from: j, lanes: 8) }
                                if h < 8 { output(from: 0, lanes: h) }
                            }
                        }
                    }
                }
            }
        }
    }

    override func backwardSteps(_ dHidden: [Float], batch n: Int) -> (input: [Float], recurrent: [Float]?) {
        let h = units, w = width
        var dz = RecurrentLayer.stepBuffer(steps * n * w)
        var dhNext = [Float](repeating: 0, count: n * h)
        // The cell state's gradient from the step after, and the one this step
        // passes back: apart, so the loop below never writes what it reads.
        var dcNext = [Float](repeating: 0, count: n * h), dcPassed = dcNext
        // Each row's activation slopes, so the gradient loop is plain arithmetic.
        let cellSlope = UnsafeMutablePointer<Float>.allocate(capacity: 2 * h), candidateSlope = cellSlope + h
        defer { cellSlope.deallocate() }
        for t in stride(from: steps - 1, through: 0, by: -1) {
            dz.withUnsafeMutableBufferPointer { d in
                let d0 = d.baseAddress! + t * n * w
                projections.withUnsafeBufferPointer { p in
                    cells.withUnsafeBufferPointer { c in
                        cellOutputs.withUnsafeBufferPointer { a in
                            dHidden.withUnsafeBufferPointer { dh in
                                for r in 0..<n {
                                    let z = p.baseAddress! + (t * n + r) * w, g = d0 + r * w
                                    let previous = c.baseAddress! + (t * n + r) * h, act = a.baseAddress! + (t * n + r) * h
                                    let hidden = dh.baseAddress! + (t * n + r) * h
                                    slopes(act, into: cellSlope, count: h)
                                    slopes(z + 2 * h, into: candidateSlope, count: h)
                                    dhNext.withUnsafeBufferPointer { dhn in
                                        dcNext.withUnsafeBufferPointer { dcn in
                                            dcPassed.withUnsafeMutableBufferPointer { dcp in
                                                let dhNext = dhn.baseAddress! + r * h, dcNext = dcn.baseAddress! + r * h
                                                let dcPassed = dcp.baseAddress! + r * h
                                                // Eight units at a time (the optimiser does not vectorise it
                                                // by itself: too many pointers that might alias). `k` lanes
                                                // from unit j; inlined at each call, so k is a constant.
                                                @inline(__always) func units(from j: Int, lanes k: Int) {
                                                    let i = Vector.load(z + j, lanes: k), f = Vector.load(z + h + j, lanes: k)
                                                    let cand = Vector.load(z + 2 * h + j, lanes: k), o = Vector.load(z + 3 * h + j, lanes: k)
                                                    let dState = Vector.load(hidden + j, lanes: k) + Vector.load(dhNext + j, lanes: k)
                                                    let dCell = dState * o * Vector.load(cellSlope + j, lanes: k) + Vector.load(dcNext + j, lanes: k)
                                                    Vector.store(dCell * f, dcPassed + j, lanes: k)
                                                    Vector.store(dCell * cand * i * (1 - i), g + j, lanes: k)
                                                    Vector.store(dCell * Vector.load(previous + j, lanes: k) * f * (1 - f), g + h + j, lanes: k)
                                                    Vector.store(dCell * i * Vector.load(candidateSlope + j, lanes: k), g + 2 * h + j, lanes: k)
                                                    Vector.store(dState * Vector.load(act + j, lanes: k) * o * (1 - o), g + 3 * h + j, lanes: k)
                                                }
                                                // The loop writes nothing it reads: vectors may overlap.
                                                for j in Vector.Covering(h) { units(from: j, lanes: 8) }
                                                if h < 8 { units(from: 0, lanes: h) }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                if t > 0 { dhNext.withUnsafeMutableBufferPointer { recurrentGradient(d0, batch: n, into: $0.baseAddress!, adding: false) } }
                swap(&dcNext, &dcPassed)
            }
        }
        return (dz, nil)
    }
}
