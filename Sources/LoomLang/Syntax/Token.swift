/// Where a piece of source sits: 1-based line and column (in characters), and
/// the offsets (in Unicode scalars) of its first character and one past its end.
public struct SourceRange: Sendable, Equatable {
    public var line: Int
    public var column: Int
    public var start: Int
    public var end: Int

    public init(line: Int, column: Int, start: Int, end: Int) {
        self.line = line
        self.column = column
        self.start = start
        self.end = end
    }

    /// From the start of `self` to the end of `other`, on `self`'s line.
    func through(_ other: SourceRange) -> SourceRange {
        SourceRange(line: line, column: column, start: start, end: max(end, other.end))
    }
}

public enum TokenKind: Sendable, Equatable {
    /// A word or a dotted name (`digits.train`), split at the dots.
    case name([String])
    case number(Double)
    /// `10%`, kept as the number before the sign (10).
    case percent(Double)
    /// `28x28x1`.
    case shape([Int])
    case string(String)
    case symbol(Character)  // = + - * / ( ) { } , :
    case newline
    case end

    var describe: String {
        switch self {
        case .name(let parts): return "`\(parts.joined(separator: "."))`"
        case .number: return "a number"
        case .percent: return "a percentage"
        case .shape: return "a shape"
        case .string: return "a string"
        case .symbol(let c): return "`\(c)`"
        case .newline: return "the end of the line"
        case .end: return "the end of the cell"
        }
    }
}

public struct Token: Sendable, Equatable {
    public var kind: TokenKind
    public var range: SourceRange
    /// The characters as written.
    public var text: String

    /// The single word of an undotted name token.
    var word: String? {
        if case .name(let parts) = kind, parts.count == 1 { return parts[0] }
        return nil
    }
}
