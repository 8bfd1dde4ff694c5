import LoomCore
import LoomEngine
import LoomRender

/// Something a session holds under a name: a plain value or an object.
public enum SessionItem {
    case value(Value)
    case object(any SessionObject)

    var kindName: String {
        switch self {
        case .value(let v): return v.typeName
        case .object(let o): return o.kindName
        }
    }

    /// The kind as a sentence names it ("a data set", not "a data").
    var kindNoun: String {
        switch self {
        case .value(let v): return v.typeName
        case .object(let o): return o.kindNoun
        }
    }

    var describe: String {
        switch self {
        case .value(let v): return v.display
        case .object(let o): return o.describe
        }
    }

    var bytes: Int {
        switch self {
        case .value(let v): return v.bytes
        case .object(let o): return o.bytes
        }
    }
}

/// A model in the session, with what training has left on it.
public final class ModelState: SessionObject {
    public let model: Sequential
    public var optimizer: Optimizer?
    public var epochsTrained = 0
    public var history: [EpochRecord] = []
    /// The loss of the last `train … target inputs`; nil when the model was
    /// last trained on the data's own targets (or never). `evaluate`,
    /// `compare` and `predict` then measure reconstructions with it, as a
    /// Keras model keeps the loss it was compiled with.
    public var reconstructionLoss: Loss?
    /// Whether the last `train` used `loss lasso`: `evaluate` then reports
    /// the lasso objective of the model's codes, as validation did, since
    /// the data holds no codes to compare them with.
    public var trainedOnLasso = false

    /// Pruning rounds: the unpruned model, then one per `prune`, each with
    /// its weights' sparsity and the last evaluation made in that round.
    public var pruning: [PruningRound] = []

    /// Every parameter's values when the model was defined: what `rewind`
    /// returns to. Nil when they are unknown: a saved file holds the trained
    /// weights, not the ones training started from.
    public let initialWeights: [[Float]]?

    /// The weights after the epochs the last `train … keep epoch E` (or
    /// `keep epochs E1 E2 …`) kept, in order, for late rewinding (`rewind M
    /// to epoch E`); empty when none were asked for.
    public var keptEpochs: [(epoch: Int, weights: [[Float]])] = []

    /// A model whose initial weights are its weights now.
    public convenience init(model: Sequential) {
        self.init(model: model, initialWeights: model.parameters.map(\.value.storage))
    }

    public init(model: Sequential, initialWeights: [[Float]]?) {
        self.model = model
        self.initialWeights = initialWeights
    }

    public static let kind = "model"
    public static let noun = "model"
    /// What its model holds (`Sequential.heldBytes`), and the weights it was defined with and kept.
    public var bytes: Int {
        model.heldBytes
            + ((initialWeights ?? []) + keptEpochs.flatMap(\.weights)).reduce(0) { $0 + 4 * $1.count }
    }
    public var describe: String {
        "\(model.blocks.count) layers, \(model.parameterCount) parameters" + (epochsTrained > 0 ? ", trained \(epochsTrained) epochs" : "")
    }
    public func display(as name: String, width: Int) -> [MimeBundle] { [line(as: name)] }

    /// Its layers, by the names blocks take (`conv1`) or are given (`as`).
    public var partNames: [String] { model.blocks.map(\.name) }
    public func describePart(_ name: String) -> String? {
        model.block(named: name).map {
            "\($0.main.kind) layer, output \(Shape.text($0.outputShape)), \($0.parameterCount) parameters"
        }
    }
}

/// One round of a pruning schedule, for `show pruning`.
public struct PruningRound: Sendable {
    /// The share of the model's weights and biases that are zero.
    public var sparsity: Double
    /// Weights and biases not zero, when the round recorded them (a round
    /// read from a file saved before they were kept has its sparsity alone).
    public var nonzeroParameters: Int? = nil
    /// The last evaluation in this round: on what, accuracy (classes) and loss.
    public var data: String?
    public var accuracy: Double?
    public var loss: Double?
}

/// How plots are drawn: `auto` adds SVG figures where the front end shows
/// them (notebooks), and draws text alone in a terminal (`loom eval`).
public enum PlotStyle: String, Sendable, CaseIterable {
    case auto, text, svg
}

/// Where a session's output is shown, which `set plots auto` follows.
public enum FrontEnd: Sendable {
    /// Jupyter front ends and notebook files: each display carries its SVG
    /// beside the text, and a front end shows the richest it can (a
    /// terminal such as `jupyter console` falls back to the text).
    case notebook
    /// A terminal that shows plain text only.
    case terminal
}

/// The state that outlives a cell: names, settings, the random generator.
public final class Session {
    /// Names in the order they were first defined.
    public private(set) var names: [String] = []
    private var items: [String: SessionItem] = [:]

    public var plotStyle = PlotStyle.auto
    public let frontEnd: FrontEnd
    /// Whether displays carry SVG figures beside their text.
    public var drawsSVG: Bool { plotStyle == .svg || (plotStyle == .auto && frontEnd == .notebook) }
    /// How long loops show their progress (`set progress`).
    public var progress = ProgressDisplay.Mode.auto
    public var width = 80
    public var threads: Int
    /// The one account every allocation asks (see `MemoryAccount`).
    public private(set) lazy var memory = MemoryAccount(limit: Session.defaultMemoryLimit) { [unowned self] in
        self.heldBytes(excluding: $0)
    }
    /// The most memory (bytes) the session may hold and allocate in all; half the machine's by default.
    public var memoryLimit: Int {
        get { memory.limit }
        set { memory.limit = newValue }
    }
    public static var defaultMemoryLimit: Int { max(256 << 20, Machine.physicalMemory / 2) }
    public var random: RandomGenerator

    public static let defaultSeed: UInt64 = 0x4C4F4F4D
    private var displays = 0

    /// A display id for an output that will be updated in place.
    public func newDisplayID() -> String {
        displays += 1
        return "loom-\(ObjectIdentifier(self).hashValue & 0xFFFFFF)-\(displays)"
    }

    public init(frontEnd: FrontEnd = .notebook) {
        self.frontEnd = frontEnd
        threads = Session.defaultThreads
        random = RandomGenerator(seed: Session.defaultSeed)
    }

    static var machineCores: Int { max(1, Machine.cores) }
    /// One per core, shared among the ranks on this machine under mpirun,
    /// so N ranks × T threads do not ask for more threads than cores.
    static var defaultThreads: Int { max(1, machineCores / Ranks.onThisMachine) }

    public subscript(name: String) -> SessionItem? { items[name] }

    /// The memory every name holds, but `name` (about to be replaced).
    public func heldBytes(excluding name: String? = nil) -> Int {
        items.reduce(0) { $0 + ($1.key == name ? 0 : $1.value.bytes) }
    }

    /// Rows `record` holds back while a `parallel` loop runs (nil otherwise).
    var heldRows: [HeldRow]?

    /// The names and what they hold, for `restoreNames`.
    var savedNames: (names: [String], items: [String: SessionItem]) { (names, items) }

    /// Puts the names back as `savedNames` gave them.
    func restoreNames(_ saved: (names: [String], items: [String: SessionItem])) {
        names = saved.names
        items = saved.items
    }

    public func define(_ name: String, _ item: SessionItem) {
        if items[name] == nil { names.append(name) }
        items[name] = item
    }

    @discardableResult
    public func delete(_ name: String) -> Bool {
        guard items.removeValue(forKey: name) != nil else { return false }
        names.removeAll { $0 == name }
        return true
    }

    /// Forgets every name and setting.
    public func reset() {
        names = []
        items = [:]
        plotStyle = .auto
        progress = .auto
        width = 80
        threads = Session.defaultThreads
        memoryLimit = Session.defaultMemoryLimit
        random = RandomGenerator(seed: Session.defaultSeed)
    }
}
