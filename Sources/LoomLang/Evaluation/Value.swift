import LoomRender

/// A value a variable can hold or an expression can produce.
public enum Value: Sendable, Equatable {
    case number(Double)
    /// A share written as a percentage; holds the fraction (`10%` is 0.1).
    case percent(Double)
    case string(String)
    case shape([Int])
    /// `[5%, 10%, 20%]`: what `for` iterates, and what `loom run -p` can pass.
    indirect case list([Value])

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
        case .percent(let f): return NumberFormat.short(f * 100, significant: 12) + "%"
        case .string(let s): return s
        case .shape(let dims): return dims.map(String.init).joined(separator: "x")
        case .list(let items): return "[" + items.map(\.display).joined(separator: ", ") + "]"
        }
    }

    /// Roughly the memory the value holds.
    var bytes: Int {
        switch self {
        case .string(let s): return 16 + s.utf8.count
        case .shape(let dims): return 16 + 8 * dims.count
        case .list(let items): return 16 + items.reduce(0) { $0 + $1.bytes }
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
