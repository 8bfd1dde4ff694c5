/// A recurrent layer's steps on some samples, for `show activations`: the
/// hidden state at every step, and each gate's mean at every step (how open
/// an LSTM's forget gate is over time).
public struct RecurrentTrace: Sendable, Equatable {
    /// One gate's mean over units and samples, at each step.
    public struct GateMeans: Sendable, Equatable {
        public let gate: String
        public let means: [Double]
    }

    public let samples: Int
    public let steps: Int
    public let units: Int
    /// The hidden states, `[samples, steps, units]`.
    public let states: Tensor
    /// Each gate's means, in the order of the cell's gates.
    public let gateMeans: [GateMeans]

    /// The trace of hidden states `[n, steps, units]` and activated gates
    /// `[n, steps, gates·units]` (gate g's units the g-th block of a row).
    public init(states: Tensor, gates: Tensor, gateNames: [String]) {
        let (n, steps, units) = (states.shape[0], states.shape[1], states.shape[2])
        precondition(gates.shape == [n, steps, gateNames.count * units],
                     "RecurrentTrace: gates \(Shape.text(gates.shape)) for \(gateNames.count) gates of states \(Shape.text(states.shape))")
        samples = n
        self.steps = steps
        self.units = units
        self.states = states
        let width = gates.shape[2]
        gateMeans = gateNames.enumerated().map { g, gate in
            GateMeans(gate: gate, means: (0..<steps).map { t in
                var sum = 0.0
                for s in 0..<n { for j in 0..<units { sum += Double(gates[(s * steps + t) * width + g * units + j]) } }
                return sum / Double(n * units)
            })
        }
    }

    /// Sample `s`'s hidden state as a `units × steps` grid, row-major: a row
    /// per unit, a column per step.
    public func stateGrid(sample s: Int) -> [Double] {
        var values = [Double](repeating: 0, count: units * steps)
        for t in 0..<steps { for j in 0..<units { values[j * steps + t] = Double(states[(s * steps + t) * units + j]) } }
        return values
    }
}
