/// A recurrent layer's steps on some samples, for `show activations`: the
/// hidden state at every step for the first samples, and each gate's mean
/// at every step (how open an LSTM's forget gate is over time). Built a
/// batch at a time (`appending`), with the figures of one pass over all.
public struct RecurrentTrace: Sendable, Equatable {
    /// One gate's mean over units and samples, at each step.
    public struct GateMeans: Sendable, Equatable {
        public let gate: String
        public let means: [Double]
    }

    /// The samples traced, all batches together.
    public private(set) var samples = 0
    public let steps: Int
    public let units: Int
    /// The hidden states of the first samples kept, `[kept, steps, units]`.
    public private(set) var states: Tensor
    let gateNames: [String]
    /// Each gate's sum at each step over units and samples, added in sample
    /// order, so a trace made in batches sums as one pass would.
    private var gateSums: [[Double]]

    /// A trace of no samples yet, of a cell with these gates.
    public init(steps: Int, units: Int, gateNames: [String]) {
        self.steps = steps
        self.units = units
        self.gateNames = gateNames
        states = Tensor(shape: [0, steps, units], storage: [])
        gateSums = gateNames.map { _ in [Double](repeating: 0, count: steps) }
    }

    /// The trace of hidden states `[n, steps, units]` and activated gates
    /// `[n, steps, gates·units]` (gate g's units the g-th block of a row).
    public init(states: Tensor, gates: Tensor, gateNames: [String]) {
        self.init(steps: states.shape[1], units: states.shape[2], gateNames: gateNames)
        append(states: states, gates: gates, keepingStatesOf: states.batch)
    }

    /// Each gate's means, in the order of the cell's gates.
    public var gateMeans: [GateMeans] {
        zip(gateNames, gateSums).map { gate, sums in GateMeans(gate: gate, means: sums.map { $0 / Double(samples * units) }) }
    }

    /// Adds the next samples' states `[n, steps, units]` and gates `[n,
    /// steps, gates·units]`, keeping states until `kept` samples are held.
    public mutating func append(states next: Tensor, gates: Tensor, keepingStatesOf kept: Int) {
        let n = next.batch
        precondition(next.shape == [n, steps, units] && gates.shape == [n, steps, gateNames.count * units],
                     "RecurrentTrace: gates \(Shape.text(gates.shape)) for \(gateNames.count) gates of states \(Shape.text(next.shape))")
        let width = gates.shape[2]
        gates.storage.withUnsafeBufferPointer { v in
            for g in gateSums.indices {
                for t in 0..<steps {
                    var sum = gateSums[g][t]
                    for s in 0..<n { for j in 0..<units { sum += Double(v[(s * steps + t) * width + g * units + j]) } }
                    gateSums[g][t] = sum
                }
            }
        }
        samples += n
        let taken = min(n, max(0, kept - states.batch))
        if taken > 0 {
            states = Tensor(shape: [states.batch + taken, steps, units],
                            storage: states.storage + next.storage.prefix(taken * steps * units))
        }
    }

    /// Sample `s`'s hidden state (one of those kept) as a `units × steps`
    /// grid, row-major: a row per unit, a column per step.
    public func stateGrid(sample s: Int) -> [Double] {
        var values = [Double](repeating: 0, count: units * steps)
        for t in 0..<steps { for j in 0..<units { values[j * steps + t] = Double(states[(s * steps + t) * units + j]) } }
        return values
    }
}
