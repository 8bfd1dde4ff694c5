#if canImport(Glibc)
import Glibc
#endif

/// What the recurrent layers (`SimpleRNN`, `LSTM`, `GRU`) share: the same
/// weights at every time step of a sequence `[batch, steps, features]`
/// (parameter sharing across time), in Keras's layouts — `kernel`
/// `[features, gates·units]`, `recurrentKernel` `[units, gates·units]` — and
/// the plumbing around each cell's own step.
///
/// Inside, sequences are time-major (`[steps, batch, …]`), so every step's
/// slice is contiguous and a whole sequence's products are single GEMMs: the
/// input projection of all steps is one product before the steps, and in
/// backpropagation through time the kernel's and the recurrent kernel's
/// gradients of all steps are one product each after them. Per step only the
/// recurrent product `h_{t−1}·U` runs, and the gates' nonlinearities loop
/// over the whole batch.
public class RecurrentLayer: Layer {
    public let name: String
    public let kind: String
    public let inputShape: [Int]
    public let outputShape: [Int]
    public let units: Int
    public let activation: ActivationFunction
    /// Every step's output (Keras `return_sequences`), or only the last.
    public let returnsSequences: Bool
    public private(set) var kernel: Parameter
    public private(set) var recurrentKernel: Parameter
    public private(set) var bias: Parameter
    /// Gates per unit: 1 (simple RNN), 3 (GRU), 4 (LSTM).
    let gates: Int

    public var steps: Int { inputShape[0] }
    public var features: Int { inputShape[1] }
    /// Columns of the kernels: `gates · units`.
    public var width: Int { gates * units }

    /// The last training batch, time-major: its inputs `[steps, n, features]`,
    /// each step's gate values `[steps, n, gates·units]` (the input
    /// projection, then the activated gates), and the hidden states
    /// `[steps + 1, n, units]` from the zero state on.
    var inputs: [Float] = []
    var projections: [Float] = []
    var states: [Float] = []
    var batch = 0

    /// `prefix` names the parameters apart where two cells share a block
    /// (a bidirectional layer's `forward.` and `backward.`).
    init(name: String, kind: String, input: [Int], units: Int, gates: Int, activation: ActivationFunction,
         returnsSequences: Bool, biasShape: [Int], prefix: String, random: inout RandomGenerator) throws(ShapeError) {
        guard input.count == 2, input[0] > 0, input[1] > 0 else {
            throw ShapeError("\(kind) needs an input of steps×features, like 10x1, not \(Shape.text(input))")
        }
        guard units > 0 else { throw ShapeError("\(kind) needs at least one unit") }
        guard activation != .softmax else { throw ShapeError("\(kind) takes tanh, relu, sigmoid or linear, not softmax") }
        self.name = name
        self.kind = kind
        inputShape = input
        outputShape = returnsSequences ? [input[0], units] : [units]
        self.units = units
        self.gates = gates
        self.activation = activation
        self.returnsSequences = returnsSequences
        let width = gates * units
        kernel = Parameter(name: prefix + "kernel", value: Initializer.glorotUniform(shape: [input[1], width], fanIn: input[1],
                                                                              fanOut: width, random: &random))
        recurrentKernel = Parameter(name: prefix + "recurrent_kernel", value: Initializer.orthogonal(rows: units, columns: width,
                                                                                             random: &random))
        bias = Parameter(name: prefix + "bias", value: Tensor(zeros: biasShape))
    }

    /// The same layer on the same parameters, with caches of its own.
    required init(replicating other: RecurrentLayer) {
        name = other.name
        kind = other.kind
        inputShape = other.inputShape
        outputShape = other.outputShape
        units = other.units
        gates = other.gates
        activation = other.activation
        returnsSequences = other.returnsSequences
        kernel = other.kernel
        recurrentKernel = other.recurrentKernel
        bias = other.bias
    }

    public func replica(on parameters: [Parameter]) -> Layer { replicated(on: parameters) }
    func replicated(on parameters: [Parameter]) -> RecurrentLayer {
        let copy = type(of: self).init(replicating: self)
        (copy.kernel, copy.recurrentKernel, copy.bias) = (parameters[0], parameters[1], parameters[2])
        return copy
    }

    public var parameters: [Parameter] { [kernel, recurrentKernel, bias] }
    /// The input projection and the recurrent product at every step.
    public var multiplyAdds: Int { steps * (features + units) * width }
    /// The same cell's weights copied to every step: an unrolled network.
    public var unsharedParameters: Int { steps * parameterCount }
    /// Kept for backward: the inputs, the gates and the states of every step;
    /// in backward the same again for their gradients; and the output.
    public var trainingFloatsPerSample: Int {
        2 * (steps * features + steps * width + (steps + 1) * units) + outputSize + extraFloatsPerSample
    }
    /// Per-step products of 8 rows cost more in calls than they save in
    /// threads: measured on the LSTM on sine waves, shards of 16 are ~5% faster on one
    /// thread and ~12% on two.
    public var minimumShard: Int { 16 }
    /// What a cell keeps beyond the gates and states (an LSTM's cell states).
    var extraFloatsPerSample: Int { 0 }

    // MARK: what reports read

    /// The gates, in the order of the kernels' column blocks.
    public var gateNames: [String] { [] }

    /// Gate `g`'s columns of a `[rows, gates·units]` kernel: `rows × units`, row-major.
    public func gateColumns(of p: Parameter, gate g: Int) -> [Float] {
        let rows = p.value.count / width
        var out = [Float](repeating: 0, count: rows * units)
        for r in 0..<rows { for j in 0..<units { out[r * units + j] = p.value[r * width + g * units + j] } }
        return out
    }

    /// What the layer does with `x` step by step, without training: the
    /// hidden state `[n, steps, units]` and the activated gates `[n, steps,
    /// gates·units]` at every step, whatever the layer returns.
    public func trace(_ x: Tensor) -> (states: Tensor, gates: Tensor) {
        let n = x.batch
        _ = forward(x, training: false)
        let states = RecurrentLayer.transpose(Array(self.states[(n * units)...]), outer: steps, inner: n, width: units)
        let gates = RecurrentLayer.transpose(projections, outer: steps, inner: n, width: width)
        return (Tensor(shape: [n, steps, units], storage: states), Tensor(shape: [n, steps, width], storage: gates))
    }

    // MARK: forward

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let n = x.batch
        batch = n
        inputs = RecurrentLayer.transpose(x.storage, outer: n, inner: steps, width: features)
        projections = project(inputs, rows: steps * n)
        states = RecurrentLayer.stepBuffer((steps + 1) * n * units, zeroed: n * units)
        runSteps(batch: n)
        return output(batch: n)
    }

    /// x·W + b for `rows` time-major rows: every step's input projection at once.
    func project(_ x: [Float], rows: Int) -> [Float] {
        var p = [Float](unsafeUninitializedCapacity: rows * width) { buffer, count in
            count = rows * width
            let inputBias = Array(bias.value.storage.prefix(width))
            GEMM.fillRows(buffer.baseAddress!, rows: rows, with: inputBias)
        }
        x.withUnsafeBufferPointer { xs in
            kernel.value.storage.withUnsafeBufferPointer { w in
                p.withUnsafeMutableBufferPointer { out in
                    GEMM.multiply(xs.baseAddress!, w.baseAddress!, into: out.baseAddress!, m: rows, n: width, k: features, beta: 1)
                }
            }
        }
        return p
    }

    /// The cell's steps, t = 0, 1, …: reads `projections`, writes the
    /// activated gates back into them and the states `states[t + 1]`.
    func runSteps(batch n: Int) {}

    /// `c ← c + h·U` for the `n` rows of a hidden state `h`: the one product
    /// a step runs. `into` holds `n × gates·units` values.
    func addRecurrentProduct(from state: UnsafePointer<Float>, batch n: Int, into: UnsafeMutablePointer<Float>) {
        recurrentKernel.value.storage.withUnsafeBufferPointer { u in
            GEMM.multiply(state, u.baseAddress!, into: into, m: n, n: width, k: units, beta: 1)
        }
    }

    /// `addRecurrentProduct` from step `t`'s hidden state, `states[t]`.
    func addRecurrentProduct(step t: Int, batch n: Int, into: UnsafeMutablePointer<Float>) {
        states.withUnsafeBufferPointer { addRecurrentProduct(from: $0.baseAddress! + t * n * units, batch: n, into: into) }
    }

    /// The layer's output, batch-major: every step's state, or the last.
    func output(batch n: Int) -> Tensor {
        if returnsSequences {
            let sequence = Array(states[(n * units)...])
            return Tensor(shape: [n, steps, units], storage: RecurrentLayer.transpose(sequence, outer: steps, inner: n, width: units))
        }
        return Tensor(shape: [n, units], storage: Array(states[(steps * n * units)...]))
    }

    // MARK: backward

    public func backward(_ dy: Tensor) -> Tensor {
        let dInput = backwardThroughTime(dy)
        return Tensor(shape: [batch] + inputShape, storage: inputGradient(dInput))
    }

    public func addParameterGradients(_ dy: Tensor) { _ = backwardThroughTime(dy) }

    /// The steps backwards, then the weights' gradients of all steps at
    /// once; returns the gradient of the input projection, `[steps, n, width]`.
    func backwardThroughTime(_ dy: Tensor) -> [Float] {
        let n = batch
        let (dInput, dRecurrent) = backwardSteps(hiddenGradient(dy), batch: n)
        let rows = steps * n
        kernel.gradient.storage.withUnsafeMutableBufferPointer { dw in
            inputs.withUnsafeBufferPointer { x in
                dInput.withUnsafeBufferPointer { g in
                    GEMM.multiply(x.baseAddress!, transposeA: true, g.baseAddress!, into: dw.baseAddress!,
                                  m: features, n: width, k: rows, beta: 1)
                }
            }
        }
        let recurrent = dRecurrent ?? dInput
        recurrentKernel.gradient.storage.withUnsafeMutableBufferPointer { du in
            states.withUnsafeBufferPointer { s in
                recurrent.withUnsafeBufferPointer { g in
                    // h_{t−1} for t = 0 … steps−1: the first `steps` state slots. Slot 0
                    // is zero and adds nothing, but leaving it out changes the sums'
                    // grouping in OpenBLAS's kernel, and with it the last bits.
                    GEMM.multiply(s.baseAddress!, transposeA: true, g.baseAddress!, into: du.baseAddress!,
                                  m: units, n: width, k: rows, beta: 1)
                }
            }
        }
        bias.gradient.storage.withUnsafeMutableBufferPointer { db in
            dInput.withUnsafeBufferPointer { RecurrentLayer.addRows($0, rows: rows, width: width, into: db.baseAddress!) }
            if let dRecurrent, db.count == 2 * width {
                dRecurrent.withUnsafeBufferPointer { RecurrentLayer.addRows($0, rows: rows, width: width, into: db.baseAddress! + width) }
            }
        }
        return dInput
    }

    /// The cell's steps backwards from the last, given each step's hidden
    /// state gradient (time-major): the gradients of the input projection
    /// and, where the cell keeps the recurrent product apart (GRU), of it;
    /// nil when they are the same.
    func backwardSteps(_ dHidden: [Float], batch n: Int) -> (input: [Float], recurrent: [Float]?) { ([], nil) }

    /// dy as the gradient of every step's hidden state, time-major: zero but
    /// for the last step unless the layer returns its sequences.
    func hiddenGradient(_ dy: Tensor) -> [Float] {
        let n = batch
        if returnsSequences { return RecurrentLayer.transpose(dy.storage, outer: n, inner: steps, width: units) }
        var d = [Float](repeating: 0, count: steps * n * units)
        d.replaceSubrange(((steps - 1) * n * units)..<(steps * n * units), with: dy.storage)
        return d
    }

    /// dx = dP·Wᵀ, back to batch-major `[n, steps, features]`.
    func inputGradient(_ dInput: [Float]) -> [Float] {
        let rows = steps * batch
        var dx = RecurrentLayer.stepBuffer(rows * features)
        dInput.withUnsafeBufferPointer { g in
            kernel.value.storage.withUnsafeBufferPointer { w in
                dx.withUnsafeMutableBufferPointer { out in
                    GEMM.multiply(g.baseAddress!, w.baseAddress!, transposeB: true, into: out.baseAddress!,
                                  m: rows, n: features, k: width)
                }
            }
        }
        return RecurrentLayer.transpose(dx, outer: steps, inner: batch, width: features)
    }

    /// `dh ← dz·Uᵀ` for one step's rows: the gradient passed to the state before.
    func recurrentGradient(_ dz: UnsafePointer<Float>, batch n: Int, into dh: UnsafeMutablePointer<Float>, adding: Bool) {
        recurrentKernel.value.storage.withUnsafeBufferPointer { u in
            GEMM.multiply(dz, u.baseAddress!, transposeB: true, into: dh, m: n, n: units, k: width, beta: adding ? 1 : 0)
        }
    }

    // MARK: helpers

    /// `count` floats for values the steps write in full before they read
    /// them, so they are not zeroed first (an LSTM shard's gate gradients
    /// alone are 128 KB a step), but for the first `zeroed`: the state
    /// before the first step.
    static func stepBuffer(_ count: Int, zeroed: Int = 0) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            buffer.baseAddress!.initialize(repeating: 0, count: zeroed)
            initialized = count
        }
    }

    /// `[outer, inner, width]` to `[inner, outer, width]`.
    static func transpose(_ x: [Float], outer: Int, inner: Int, width: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: x.count) { out, count in
            count = x.count
            x.withUnsafeBufferPointer { src in
                for o in 0..<outer {
                    for i in 0..<inner {
                        (out.baseAddress! + (i * outer + o) * width).initialize(from: src.baseAddress! + (o * inner + i) * width,
                                                                                 count: width)
                    }
                }
            }
        }
    }

    static func addRows(_ g: UnsafeBufferPointer<Float>, rows: Int, width: Int, into sums: UnsafeMutablePointer<Float>) {
        var row = g.baseAddress!
        for _ in 0..<rows {
            Vector.add(row, into: sums, count: width)
            row += width
        }
    }

    /// The layer's activation of `count` values, in place.
    func activate(_ x: UnsafeMutablePointer<Float>, count: Int) { activate(x, into: x, count: count) }

    /// `y = act(x)` for `count` values (`y` may be `x`).
    func activate(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        switch activation {
        case .tanh: FastMath.tanh(x, into: y, count: count)
        case .relu: Vector.relu(x, into: y, count: count)
        case .sigmoid: FastMath.sigmoid(x, into: y, count: count)
        case .linear, .softmax: if UnsafePointer(y) != x { y.update(from: x, count: count) }
        }
    }

    /// The activation's derivative at each of `count` outputs `y`: one
    /// switch for the run, so the loops that use it stay plain arithmetic.
    func slopes(_ y: UnsafePointer<Float>, into d: UnsafeMutablePointer<Float>, count: Int) {
        activation.withSlope(Slopes(y: y, d: d, count: count))
    }

    private struct Slopes: SlopeSpecialised {
        let y: UnsafePointer<Float>, d: UnsafeMutablePointer<Float>, count: Int
        func run<S: ActivationSlope>(_: S.Type) {
            @inline(__always) func values(from i: Int, lanes k: Int) { Vector.store(S.slope(Vector.load(y + i, lanes: k)), d + i, lanes: k) }
            var i = 0
            while i + 8 <= count { values(from: i, lanes: 8); i += 8 }
            if i < count { values(from: i, lanes: count - i) }
        }
    }
}

/// `rnn`, `lstm` and `gru` lines: the cell, its units and activation, and
/// whether every step's output is returned.
public struct RecurrentSpec: LayerSpec, Equatable {
    public enum Cell: String, Sendable, CaseIterable { case rnn, lstm, gru }
    public var cell: Cell
    public var units: Int
    public var activation: ActivationFunction
    public var returnsSequences: Bool
    /// A second cell reads the sequence backwards; their outputs are concatenated.
    public var bidirectional: Bool

    public init(cell: Cell, units: Int, activation: ActivationFunction = .tanh, returnsSequences: Bool = false,
                bidirectional: Bool = false) {
        self.cell = cell
        self.units = units
        self.activation = activation
        self.returnsSequences = returnsSequences
        self.bidirectional = bidirectional
    }

    public var blockPrefix: String { cell.rawValue }
    var gates: Int { [Cell.rnn: 1, .lstm: 4, .gru: 3][cell]! }

    public func parameterCount(input: [Int]) throws(ShapeError) -> Int {
        let width = gates * units
        guard let features = input.last,
              let weights = Shape.count([features + units, width]),
              let total = Shape.count([weights + width * (cell == .gru ? 2 : 1), bidirectional ? 2 : 1])
        else { throw ShapeError("the layer is too large to build") }
        return total
    }

    public func build(name: String, input: [Int], random: inout RandomGenerator) throws(ShapeError) -> [Layer] {
        guard bidirectional else { return [try cell(name: name, input: input, prefix: "", random: &random)] }
        return [Bidirectional(forward: try cell(name: name, input: input, prefix: "forward.", random: &random),
                              backward: try cell(name: name, input: input, prefix: "backward.", random: &random))]
    }

    func cell(name: String, input: [Int], prefix: String, random: inout RandomGenerator) throws(ShapeError) -> RecurrentLayer {
        switch cell {
        case .rnn: return try SimpleRNN(name: name, input: input, units: units, activation: activation,
                                        returnsSequences: returnsSequences, prefix: prefix, random: &random)
        case .lstm: return try LSTM(name: name, input: input, units: units, activation: activation,
                                    returnsSequences: returnsSequences, prefix: prefix, random: &random)
        case .gru: return try GRU(name: name, input: input, units: units, activation: activation,
                                  returnsSequences: returnsSequences, prefix: prefix, random: &random)
        }
    }
}
