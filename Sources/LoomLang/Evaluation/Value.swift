import LoomRender

/// A value a variable can hold or an expression can produce.
public enum Value: Sendable, Equatable {
    case number(Double)
    /// A share written as a percentage; holds the fraction (`10%` is 0.1).
    case percent(Double)
    case string(String)
    case shape([Int])
    /// `[5%, 10%, 20%]`: what `for` iterates, and what `loom run -p` can pass.
    case list(ValueList)

    public var typeName: String {
        switch self {
        case .number: return "number"
        case .percent: return "percentage"
        case .string: return "string"
        case .shape: return "shape"
        case .list: return "list"
        }
    }

    /// The value as the cell's result shows it.
    public var display: String {
        switch self {
        case .number(let x): return NumberFormat.short(x, significant: 12)
        // As tables write them: `96.94%`, not `96.9359331476%`.
        case .percent(let f): return NumberFormat.short(f * 100, significant: 4) + "%"
        case .string(let s): return s
        case .shape(let dims): return dims.map(String.init).joined(separator: "x")
        case .list(let list): return "[" + list.items.map(\.display).joined(separator: ", ") + "]"
        }
    }

    /// The value in full, for messages about a value out of bounds
    /// (`not 100.0001%`, which `display` would round to `100%`).
    public var precise: String {
        switch self {
        case .percent(let f): return NumberFormat.short(f * 100, significant: 12) + "%"
        case .list(let list): return "[" + list.items.map(\.precise).joined(separator: ", ") + "]"
        default: return display
        }
    }

    /// Roughly the memory the value holds; a list's parts counted each time they appear.
    var bytes: Int {
        switch self {
        case .string(let s): return 16 + s.utf8.count
        case .shape(let dims): return 16 + 8 * dims.count
        case .list(let list): return list.bytes
        case .number, .percent: return 16
        }
    }

    /// Numbers and percentages as plain numbers (a percentage as its fraction).
    var numeric: Double? {
        switch self {
        case .number(let x): return x
        case .percent(let f): return f
        default: return nil
        }
    }
}

/// A list's values, with its size and depth summed once, when it is made.
///
/// A list can hold itself as it was (`l = [l, l]`): its parts are shared,
/// and walking them would visit 2ⁿ values after n such steps. The summary
/// is taken from the items' own summaries, so it costs the list's length,
/// and the evaluator refuses a list past `maximumDepth`, `maximumValues` or
/// the session's memory before it exists: every walk over a list (showing,
/// comparing, freeing) is bounded.
public struct ValueList: Sendable, Equatable {
    public let items: [Value]
    /// 1 for a list of plain values, one more per list inside a list.
    public let depth: Int
    /// Every value inside, at any depth, a shared part counted each time it appears.
    public let values: Int
    /// What showing or saving the list expands to, roughly, shared parts counted each time (saturating).
    public let bytes: Int

    /// Lists inside lists, at most (as deep as brackets may nest in a cell).
    public static let maximumDepth = Parser.maximumNesting
    /// Values in one list, at any depth, at most.
    public static let maximumValues = 1_000_000

    public init(_ items: [Value]) {
        self.items = items
        var depth = 1, values = items.count, bytes = 16
        for item in items {
            if case .list(let inner) = item {
                depth = max(depth, inner.depth + 1)
                values = values.addingSaturated(inner.values)
            }
            bytes = bytes.addingSaturated(item.bytes)
        }
        self.depth = depth
        self.values = values
        self.bytes = bytes
    }
}

extension Int {
    /// The sum, or `Int.max` where it would overflow.
    func addingSaturated(_ other: Int) -> Int {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? .max : sum
    }
}
