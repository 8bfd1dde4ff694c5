import LoomCore

/// What one line of a model block asks for. Each layer family declares its
/// spec beside its layer, in the same file: how the line is built on an
/// input shape and what it would allocate. `Sequential` knows layers only
/// through this, so a new family is one engine file (and, in the language,
/// one binding).
public protocol LayerSpec: Sendable {
    /// The word that names the family's blocks by position: `dense1`, `conv2`.
    var blockPrefix: String { get }
    /// The weights the line would allocate on `input`, worked out without
    /// allocating and without overflowing (a hostile definition may ask for
    /// more than the machine holds).
    func parameterCount(input: [Int]) throws(ShapeError) -> Int
    /// What the line would hold, in bytes, worked out as `parameterCount`
    /// is: its weights with their gradients and moments
    /// (`Sequential.bytesPerWeight` each) unless the family holds more or
    /// less (a hashed layer's code table and virtual matrix).
    func heldBytes(input: [Int]) throws(ShapeError) -> Int
    /// The engine layers the line becomes on `input`: a layer, then its
    /// activation where it has one. Throws, naming the problem, when the
    /// line does not fit `input`.
    func build(name: String, input: [Int], random: inout RandomGenerator) throws(ShapeError) -> [Layer]
    /// `build` with the model's blocks so far at hand, for a line that uses
    /// a parameter of one of them (a dense layer `tied` to another's
    /// kernel); `Sequential.add` builds through this. A line that makes all
    /// its own parameters need not implement it.
    func build(name: String, input: [Int], earlier: [Block], random: inout RandomGenerator) throws(ShapeError) -> [Layer]
    /// λ of the line's `l2 λ`: training adds λ·Σw² over the kernels the
    /// block stores (not its biases) to the loss (see `WeightDecay`); 0, the
    /// default, for none.
    var l2: Float { get }
}

extension LayerSpec {
    public func build(name: String, input: [Int], earlier: [Block], random: inout RandomGenerator) throws(ShapeError) -> [Layer] {
        try build(name: name, input: input, random: &random)
    }

    public var l2: Float { 0 }

    public func heldBytes(input: [Int]) throws(ShapeError) -> Int {
        MemoryAccount.product(try parameterCount(input: input), Sequential.bytesPerWeight)
    }

    /// A layer followed by its activation, unless that is `linear`.
    func withActivation(_ layer: Layer, _ function: ActivationFunction) -> [Layer] {
        function == .linear ? [layer] : [layer, Activation(name: layer.name, function: function, shape: layer.outputShape)]
    }
}

/// A window or kernel: height by width.
public struct Window: Sendable, Equatable {
    public var height: Int
    public var width: Int
    public init(_ height: Int, _ width: Int) {
        self.height = height
        self.width = width
    }
    public var area: Int { height * width }
    public var text: String { "\(height)x\(width)" }
}

extension Array where Element == Block {
    /// The block called `name`, whose parameters block `user` takes (`how`:
    /// "shares the parameters of"); throws, naming both, when no block
    /// before `user` is called that.
    public func lender(_ name: String, of user: String, how: String) throws(ShapeError) -> Block {
        guard let block = first(where: { $0.name == name }) else {
            throw ShapeError("\(user) \(how) `\(name)`, but no layer before it is called `\(name)`")
        }
        return block
    }
}
