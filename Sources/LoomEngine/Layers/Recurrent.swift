#if canImport(Glibc)
import Glibc
#endif

/// One gate of a recurrent cell, in the order of the kernels' column blocks.
public struct RecurrentGate: Sendable, Equatable {
    /// What reports call it: `forget` (`show weights` draws one grid per gate).
    public let name: String
    /// The value its bias starts at: 1 for an LSTM's forget gate (Keras's
    /// `unit_forget_bias`), 0 for the others; set in the bias's first row.
    public let initialBias: Float

    public init(_ name: String, initialBias: Float = 0) {
        self.name = name
        self.initialBias = initialBias
    }
}

/// A recurrent cell: what one file (`LSTM.swift`) states once — its keyword,
/// its gates, its bias rows — and its steps forward and backward. None has a
/// default, so a cell cannot forget one; `RecurrentLayer` and the extension
/// below run everything around the steps. A new cell is a final subclass of
/// `RecurrentLayer` conforming to this, listed in `RecurrentCells.all`.
public protocol RecurrentCell: RecurrentLayer, Layer {
    /// The keyword of its lines, its layers' kind and its blocks' prefix: `lstm`.
    static var kind: String { get }
    /// One line of what the cell is, for `help`.
    static var summary: String { get }
    /// The gates, in the order of the kernels' column blocks: their count
    /// is the kernels' width in units.
    static var gates: [RecurrentGate] { get }
    /// Rows of the bias, in Keras's layout: 1, or 2 where the recurrent
    /// product has a bias of its own (GRU's `reset_after`), and then
    /// `backwardSteps` returns its gradient apart.
    static var biasRows: Int { get }
    /// Floats a training sample keeps beyond the gates and states (an LSTM's cell states).
    var extraFloatsPerSample: Int { get }
    /// The steps t = 0, 1, …: reads `projections`, writes the activated
    /// gates back into them and the states `states[t + 1]`.
    func runSteps(batch n: Int)
    /// The steps backwards from the last, given each step's hidden state
    /// gradient (time-major), specialised for the activation's slope `S`:
    /// the gradients of the input projection and, where the cell keeps the
    /// recurrent product apart (two bias rows), of it; nil when they are the same.
    func backwardSteps<S: ActivationSlope>(_ dHidden: [Float], batch n: Int, slope: S.Type) -> (input: [Float], recurrent: [Float]?)
}

/// Every recurrent cell, in the order `help` lists them: a new cell is its
/// file and its entry here.
public enum RecurrentCells {
    public static let all: [any RecurrentCell.Type] = [SimpleRNN.self, LSTM.self, GRU.self]
}

/// What the recurrent cells (`SimpleRNN`, `LSTM`, `GRU`) share: the same
/// weights at every time step of a sequence `[batch, steps, features]`
/// (parameter sharing across time), in Keras's layouts — `kernel`
/// `[features, gates·units]`, `recurrentKernel` `[units, gates·units]` — and
/// the plumbing around each cell's own steps.
///
/// Inside, sequences are time-major (`[steps, batch, …]`), so every step's
/// slice is contiguous and a whole sequence's products are single GEMMs: the
/// input projection of all steps is one product before the steps, and in
/// backpropagation through time the kernel's and the recurrent kernel's
/// gradients of all steps are one product each after them. Per step only the
/// recurrent product `h_{t−1}·U` runs, and the gates' nonlinearities loop
/// over the whole batch.
public class RecurrentLayer {
    public let name: String
    /// The cell: what its file states (kind, gates, bias rows).
    public let cell: any RecurrentCell.Type
    public let inputShape: [Int]
    public let outputShape: [Int]
    public let units: Int
    public let activation: ActivationFunction
    /// Every step's output (Keras `return_sequences`), or only the last.
    public let returnsSequences: Bool
    public internal(set) var kernel: Parameter
    public internal(set) var recurrentKernel: Parameter
    public internal(set) var bias: Parameter
    /// Columns of the kernels: gates · units.
    public let width: Int

    public var kind: String { cell.kind }
    public var steps: Int { inputShape[0] }
    public var features: Int { inputShape[1] }

    /// The last training batch, time-major: its inputs `[steps, n, features]`,
    /// each step's gate values `[steps, n, gates·units]` (the input
    /// projection, then the activated gates), and the hidden states
    /// `[steps + 1, n, units]` from the zero state on.
    var inputs: [Float] = []
    var projections: [Float] = []
    var states: [Float] = []
    var batch = 0

    /// A `cell` of `units`, initialised as Keras does: Glorot-uniform kernel,
    /// orthogonal recurrent kernel, each gate's bias at its `initialBias`.
    /// `prefix` names the parameters apart where two cells share a block (a
    /// bidirectional layer's `forward.` and `backward.`).
    required init(cell: any RecurrentCell.Type, name: String, input: [Int], units: Int, activation: ActivationFunction,
                  returnsSequences: Bool, prefix: String, random: inout RandomGenerator) throws(ShapeError) {
        guard input.count == 2, input[0] > 0, input[1] > 0 else {
            throw ShapeError("\(cell.kind) needs an input of steps×features, like 10x1, not \(Shape.text(input))")
        }
        guard units > 0 else { throw ShapeError("\(cell.kind) needs at least one unit") }
        guard activation != .softmax else { throw ShapeError("\(cell.kind) takes tanh, relu, sigmoid or linear, not softmax") }
        self.name = name
        self.cell = cell
        inputShape = input
        outputShape = returnsSequences ? [input[0], units] : [units]
        self.units = units
        self.activation = activation
        self.returnsSequences = returnsSequences
        let width = cell.gates.count * units
        self.width = width
        kernel = Parameter(name: prefix + "kernel", value: Initializer.glorotUniform(shape: [input[1], width], fanIn: input[1],
                                                                              fanOut: width, random: &random))
        recurrentKernel = Parameter(name: prefix + "recurrent_kernel", value: Initializer.orthogonal(rows: units, columns: width,
                                                                                             random: &random))
        bias = Parameter(name: prefix + "bias", value: Tensor(zeros: cell.biasRows == 1 ? [width] : [cell.biasRows, width]))
        for (g, gate) in cell.gates.enumerated() where gate.initialBias != 0 {
            for j in 0..<units { bias.value[g * units + j] = gate.initialBias }
        }
    }

    /// The same layer on the same parameters, with caches of its own.
    required init(replicating other: RecurrentLayer) {
        name = other.name
        cell = other.cell
        inputShape = other.inputShape
        outputShape = other.outputShape
        units = other.units
        activation = other.activation
        returnsSequences = other.returnsSequences
        kernel = other.kernel
        recurrentKernel = other.recurrentKernel
        bias = other.bias
        width = other.width
    }

    public var parameters: [Parameter] { [kernel, recurrentKernel, bias] }
    public var state: [LayerState] { [] }
    /// The input projection and the recurrent product at every step.
    public var multiplyAdds: Int { steps * (features + units) * width }
    /// Per-step products of 8 rows cost more in calls than they save in
    /// threads: measured on the LSTM on sine waves, shards of 16 are ~5% faster on one
    /// thread and ~12% on two.
    public var minimumShard: Int { 16 }

    // MARK: the steps' plumbing

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

    /// The weights' gradients of all steps at once, from the gradients of
    /// the input projection and, where the cell keeps it apart, of the
    /// recurrent product (`[steps, n, width]` each).
    func addWeightGradients(input dInput: [Float], recurrent dRecurrent: [Float]?) {
        let rows = steps * batch
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
    }

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
}

/// What every cell does around its steps: `Layer`'s forward and backward,
/// its memory and its replicas.
extension RecurrentCell {
    public var trainingFloatsPerSample: Int {
        2 * (steps * features + steps * width + (steps + 1) * units) + outputSize + extraFloatsPerSample
    }
    /// The same cell's weights copied to every step: an unrolled network.
    public var unsharedParameters: Int { steps * parameterCount }
    public var unrollsOverSteps: Bool { true }

    public func replica(on parameters: [Parameter]) -> Layer { replicated(on: parameters) }
    /// The same cell on `parameters` (its kernel, recurrent kernel and bias), with caches of its own.
    func replicated(on parameters: [Parameter]) -> Self {
        let copy = Self(replicating: self)
        (copy.kernel, copy.recurrentKernel, copy.bias) = (parameters[0], parameters[1], parameters[2])
        return copy
    }

    /// A cell of `units` on `input` (steps × features); see `RecurrentLayer.init`.
    public init(name: String, input: [Int], units: Int, activation: ActivationFunction = .tanh, returnsSequences: Bool = false,
                prefix: String = "", random: inout RandomGenerator) throws(ShapeError) {
        try self.init(cell: Self.self, name: name, input: input, units: units, activation: activation,
                      returnsSequences: returnsSequences, prefix: prefix, random: &random)
    }

    // MARK: what reports show

    /// One grid per gate: its input kernel's rows above its recurrent
    /// kernel's, a column per unit.
    public var weightGrids: [ReportGrid] { gateGrids(label: "") }

    /// The gate grids, titled `NAME LABELGATE gate: …`.
    func gateGrids(label: String) -> [ReportGrid] {
        let (f, h) = (features, units)
        return Self.gates.enumerated().map { g, gate in
            let values = gateColumns(of: kernel, gate: g) + gateColumns(of: recurrentKernel, gate: g)
            return ReportGrid(title: "\(name) \(label)\(gate.name) gate: rows 1–\(f) input kernel, \(f + 1)–\(f + h) recurrent kernel; "
                                + "a column per unit", rows: f + h, columns: h, values: values.map(Double.init))
        }
    }

    /// Gate `g`'s columns of a `[rows, gates·units]` kernel: `rows × units`, row-major.
    func gateColumns(of p: Parameter, gate g: Int) -> [Float] {
        let rows = p.value.count / width
        var out = [Float](repeating: 0, count: rows * units)
        for r in 0..<rows { for j in 0..<units { out[r * units + j] = p.value[r * width + g * units + j] } }
        return out
    }

    /// What the layer does with `x` step by step, without training: the
    /// hidden state and the activated gates at every step, whatever the
    /// layer returns, added to `earlier`.
    public func trace(_ x: Tensor, after earlier: RecurrentTrace?, keepingStatesOf kept: Int) -> RecurrentTrace? {
        let n = x.batch
        _ = forward(x, training: false)
        let states = RecurrentLayer.transpose(Array(self.states[(n * units)...]), outer: steps, inner: n, width: units)
        let gates = RecurrentLayer.transpose(projections, outer: steps, inner: n, width: width)
        var trace = earlier ?? RecurrentTrace(steps: steps, units: units, gateNames: Self.gates.map(\.name))
        trace.append(states: Tensor(shape: [n, steps, units], storage: states), gates: Tensor(shape: [n, steps, width], storage: gates),
                     keepingStatesOf: kept)
        return trace
    }

    // MARK: forward and backward

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let n = x.batch
        batch = n
        inputs = RecurrentLayer.transpose(x.storage, outer: n, inner: steps, width: features)
        projections = project(inputs, rows: steps * n)
        states = RecurrentLayer.stepBuffer((steps + 1) * n * units, zeroed: n * units)
        runSteps(batch: n)
        return output(batch: n)
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let dInput = backwardThroughTime(dy)
        return Tensor(shape: [batch] + inputShape, storage: inputGradient(dInput))
    }

    public func addParameterGradients(_ dy: Tensor) { _ = backwardThroughTime(dy) }

    /// The steps backwards, then the weights' gradients of all steps at
    /// once; returns the gradient of the input projection, `[steps, n, width]`.
    func backwardThroughTime(_ dy: Tensor) -> [Float] {
        let (dInput, dRecurrent) = activation.withSlope(BackwardSteps(cell: self, dHidden: hiddenGradient(dy), batch: batch))
        addWeightGradients(input: dInput, recurrent: dRecurrent)
        return dInput
    }
}

/// A cell's `backwardSteps` specialised for its activation's slope.
private struct BackwardSteps<Cell: RecurrentCell>: SlopeSpecialised {
    let cell: Cell, dHidden: [Float], batch: Int
    func run<S: ActivationSlope>(_ slope: S.Type) -> (input: [Float], recurrent: [Float]?) {
        cell.backwardSteps(dHidden, batch: batch, slope: slope)
    }
}

/// `rnn`, `lstm` and `gru` lines (a line for each of `RecurrentCells.all`):
/// the cell, its units and activation, and whether every step's output is
/// returned.
public struct RecurrentSpec: LayerSpec, Equatable {
    public var cell: any RecurrentCell.Type
    public var units: Int
    public var activation: ActivationFunction
    public var returnsSequences: Bool
    /// A second cell reads the sequence backwards; their outputs are concatenated.
    public var bidirectional: Bool
    /// λ of `l2 λ` on the kernel and the recurrent kernel, not the bias
    /// (Keras's kernel_regularizer and recurrent_regularizer, both L2(λ)).
    public var l2: Float

    public init(cell: any RecurrentCell.Type, units: Int, activation: ActivationFunction = .tanh, returnsSequences: Bool = false,
                bidirectional: Bool = false, l2: Float = 0) {
        self.l2 = l2
        self.cell = cell
        self.units = units
        self.activation = activation
        self.returnsSequences = returnsSequences
        self.bidirectional = bidirectional
    }

    public static func == (a: RecurrentSpec, b: RecurrentSpec) -> Bool {
        a.cell == b.cell && a.units == b.units && a.activation == b.activation && a.returnsSequences == b.returnsSequences
            && a.bidirectional == b.bidirectional && a.l2 == b.l2
    }

    public var blockPrefix: String { cell.kind }

    public func parameterCount(input: [Int]) throws(ShapeError) -> Int {
        let width = cell.gates.count * units
        guard let features = input.last,
              let weights = Shape.count([features + units, width]),
              let total = Shape.count([weights + width * cell.biasRows, bidirectional ? 2 : 1])
        else { throw ShapeError("the layer is too large to build") }
        return total
    }

    public func build(name: String, input: [Int], random: inout RandomGenerator) throws(ShapeError) -> [Layer] {
        guard bidirectional else { return [try cell(name: name, input: input, prefix: "", random: &random)] }
        return [Bidirectional(forward: try cell(name: name, input: input, prefix: "forward.", random: &random),
                              backward: try cell(name: name, input: input, prefix: "backward.", random: &random))]
    }

    func cell(name: String, input: [Int], prefix: String, random: inout RandomGenerator) throws(ShapeError) -> any RecurrentCell {
        try cell.init(name: name, input: input, units: units, activation: activation, returnsSequences: returnsSequences,
                      prefix: prefix, random: &random)
    }
}
