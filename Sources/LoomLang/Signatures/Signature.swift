import LoomRender

/// What kind of value a parameter takes.
public enum ParameterKind: Sendable, Equatable {
    /// A name the statement defines.
    case newName
    /// A name defined earlier, possibly dotted (`digits.train`, `cnn.conv1`),
    /// of what it must name (completion offers those names).
    case reference(Referent)
    case number
    case integer
    /// A fraction: `0.8` or `80%`.
    case fraction
    /// A count or a share: `10` or `10%`.
    case countOrPercent
    /// A share or an N:M pattern: `80%` or `2:4` (`prune`).
    case shareOrPattern
    /// A shape: `28x28x1`, or one number for a square (`3` is `3x3`).
    case shape
    case string
    case choice([String])
    /// Present or not: the word itself (`sequences`).
    case flag
    /// Any word (`help train`).
    case word
    /// Values to the end of the line (`print`).
    case expressions
    /// `COLUMN=EXPR` pairs to the end of the line (`record`).
    case columns
    /// Names, up to the next option word (`compare a b on d`).
    case references(Referent)
    /// A learning-rate schedule: `step EVERY FACTOR`, `cosine`, `warmup N`.
    case schedule
    /// `to P% [from E1] [to E2] [every N] [global]`: a gradual pruning schedule.
    case pruneSchedule
    /// `epoch E`: an epoch of the model's history (`keep epoch 3`, `rewind M to epoch 3`).
    case epoch
    /// `epoch E` or `epochs E1 E2 …`: epochs of the model's history (`keep epochs 1 3`).
    case epochs
    /// Dynamic sparse training: `set|rigl [every N] [fraction F]`.
    case rewiring
    /// `every N`: how often, in epochs (`histograms every 5`).
    case every

    /// The choices an enum's cases name, in their order: the parser accepts
    /// exactly the words the evaluator can turn back into a case.
    static func choice<E: CaseIterable & RawRepresentable>(of type: E.Type) -> ParameterKind where E.RawValue == String {
        .choice(E.allCases.map(\.rawValue))
    }

    /// What the names a parameter of this kind takes must name; nil for a kind that takes no names.
    var referent: Referent? {
        switch self {
        case .reference(let referent), .references(let referent): return referent
        default: return nil
        }
    }

    /// How the kind reads in a usage line.
    var placeholder: String {
        switch self {
        case .newName, .reference, .word: return "NAME"
        case .number: return "X"
        case .integer: return "N"
        case .fraction: return "F"
        case .countOrPercent: return "K|K%"
        case .shareOrPattern: return "P%|N:M"
        case .shape: return "DIMS"
        case .string: return "PATH"
        case .choice(let options): return options.joined(separator: "|")
        case .flag: return ""
        case .expressions: return "EXPR…"
        case .columns: return "COL=EXPR…"
        case .references: return "NAME…"
        case .schedule: return Schedules.placeholder
        case .pruneSchedule: return "to P% [from E1] [to E2] [every N] [global]"
        case .epoch: return "epoch E"
        case .epochs: return "epoch E|epochs E…"
        case .rewiring: return Rewirings.placeholder
        case .every: return "every N"
        }
    }
}

/// What a name given for a parameter must name, as its declaration states:
/// `.object(ModelState.self)` for `train MODEL`, `.part(of: ModelState.self)`
/// for `show weights M.LAYER`. Completion offers the names it admits.
public struct Referent: Sendable, Equatable {
    /// The kinds of object it may name; nil when any object (or value) will do.
    let kinds: [ObjectIdentifier]?
    /// Whether a plain value (a number, a string) will do too.
    let values: Bool
    /// Whether the name goes on to a part of the object (`cnn.conv1`).
    public let part: Bool

    /// An object of one kind: a model, a data set.
    public static func object(_ kind: any SessionObject.Type) -> Referent {
        Referent(kinds: [ObjectIdentifier(kind)], values: false, part: false)
    }

    /// An object of any of these kinds: data, or codes as data.
    public static func objects(_ kinds: any SessionObject.Type...) -> Referent {
        Referent(kinds: kinds.map { ObjectIdentifier($0) }, values: false, part: false)
    }

    /// A part of an object of one kind, `NAME.PART`: a model's layer.
    public static func part(of kind: any SessionObject.Type) -> Referent {
        Referent(kinds: [ObjectIdentifier(kind)], values: false, part: true)
    }

    /// Any object the session holds (`save`).
    public static let anyObject = Referent(kinds: nil, values: false, part: false)
    /// Any name the session holds, a value or an object (`delete`, `show NAME`).
    public static let anyName = Referent(kinds: nil, values: true, part: false)

    /// Whether a name holding `item` is one to offer (for a part: the object it is part of).
    func admits(_ item: SessionItem) -> Bool {
        switch item {
        case .value: return values
        case .object(let object): return kinds.map { $0.contains(ObjectIdentifier(type(of: object))) } ?? true
        }
    }
}

/// The values a number may take, declared beside its parameter: `help` and
/// the reference show them, `Arguments` checks them, the layer fields draw
/// from them.
public struct Bounds: Sendable, Equatable {
    public var lower: Double
    public var upper: Double
    /// Whether `lower` itself is left out (a learning rate is above 0).
    public var excludesLower: Bool
    /// Whether `upper` itself is left out (a dropout rate is below 1).
    public var excludesUpper: Bool

    public init(_ range: ClosedRange<Int>) {
        self.init(lower: Double(range.lowerBound), upper: Double(range.upperBound))
    }

    public init(lower: Double, upper: Double = .infinity, excludesLower: Bool = false, excludesUpper: Bool = false) {
        self.lower = lower
        self.upper = upper
        self.excludesLower = excludesLower
        self.excludesUpper = excludesUpper
    }

    /// Zero or more.
    public static let nonNegative = Bounds(lower: 0)
    /// Above zero.
    public static let positive = Bounds(lower: 0, excludesLower: true)
    /// From 0 up to, but not including, 1.
    public static let belowOne = Bounds(lower: 0, upper: 1, excludesUpper: true)
    /// Between 0 and 1, both left out.
    public static let withinOne = Bounds(lower: 0, upper: 1, excludesLower: true, excludesUpper: true)

    public func contains(_ x: Double) -> Bool {
        (excludesLower ? x > lower : x >= lower) && (excludesUpper ? x < upper : x <= upper)
    }

    /// The whole numbers within, as `Int`s (clamped to what an `Int` holds).
    var integers: ClosedRange<Int> {
        let bottom = excludesLower ? lower.nextUp.rounded(.up) : lower.rounded(.up)
        let top = excludesUpper ? upper.nextDown.rounded(.down) : upper.rounded(.down)
        return Int(max(bottom, -9e15))...Int(min(top, 9e15))
    }

    /// `1 to 256`, `0 or more`, `above 0`, `0 to below 1`, digits grouped
    /// (`1 to 1,000,000`); a share as percentages (`0% to below 100%`).
    public func text(asPercent: Bool = false) -> String {
        let (from, to) = (Bounds.number(lower, grouped: true, asPercent), Bounds.number(upper, grouped: true, asPercent))
        let start = excludesLower ? "above \(from)" : from
        if upper == .infinity { return excludesLower ? start : "\(from) or more" }
        return "\(start) to \(excludesUpper ? "below " : "")\(to)"
    }

    /// What a value outside must be: `between 1 and 256`, `0 or more`,
    /// `above 0 and below 1`, `at least 0% and below 100%`.
    func requirement(asPercent: Bool = false) -> String {
        let (from, to) = (Bounds.number(lower, grouped: false, asPercent), Bounds.number(upper, grouped: false, asPercent))
        if upper == .infinity { return excludesLower ? "above \(from)" : "\(from) or more" }
        if !excludesLower && !excludesUpper { return "between \(from) and \(to)" }
        return (excludesLower ? "above \(from)" : "at least \(from)") + (excludesUpper ? " and below \(to)" : " and at most \(to)")
    }

    static func number(_ x: Double, grouped: Bool = false, _ asPercent: Bool) -> String {
        if asPercent { return NumberFormat.short(x * 100, significant: 6) + "%" }
        guard x == x.rounded(), abs(x) <= 9.1e15 else { return String(x) }
        return grouped ? NumberFormat.grouped(Int(x)) : String(Int(x))
    }
}

/// One argument of a statement or layer.
public struct Parameter: Sendable, Equatable {
    public var name: String
    public var kind: ParameterKind
    /// The values a number may take; nil where any is fine or the kind says it.
    public var bounds: Bounds?
    public var required: Bool
    /// Positional parameters may be given without their name, in order.
    public var positional: Bool
    /// The default, as a person would write it (shown in help).
    public var defaultValue: String?
    public var doc: String
    /// How the value reads in a usage line, when not the kind's placeholder.
    public var placeholder: String?

    public init(_ name: String, _ kind: ParameterKind, required: Bool = false, positional: Bool = false,
                default defaultValue: String? = nil, in bounds: Bounds? = nil, placeholder: String? = nil, _ doc: String) {
        self.name = name
        self.kind = kind
        self.bounds = bounds
        self.required = required
        self.positional = positional
        self.defaultValue = defaultValue
        self.placeholder = placeholder
        self.doc = doc
    }

    /// A whole number from `range`.
    public init(_ name: String, _ kind: ParameterKind, required: Bool = false, positional: Bool = false,
                default defaultValue: String? = nil, in range: ClosedRange<Int>, placeholder: String? = nil, _ doc: String) {
        self.init(name, kind, required: required, positional: positional, default: defaultValue, in: Bounds(range),
                  placeholder: placeholder, doc)
    }

    var usage: String {
        let value = placeholder ?? kind.placeholder
        let text: String
        if kind == .flag { text = name } else if positional { text = value } else { text = "\(name) \(value)" }
        return required ? text : "[\(text)]"
    }
}

/// The parts of Loom a statement belongs to (for `help`).
public enum Category: String, Sendable, CaseIterable {
    case session = "session"
    case data = "data"
    case models = "models"
    case reports = "reports"
    case sparse = "sparse coding"
    case layers = "layers"
}

/// A statement or a layer: its words, its parameters, a line of doc and an
/// example. One table of these drives parsing, validation, completion,
/// inspection, `help` and the reference in docs/.
public struct Signature: Sendable, Equatable {
    /// The first word (`train`, `show`, `data`, `conv2d`).
    public var keyword: String
    /// The second word that picks a form (`show filters`, `data csv`).
    public var subword: String?
    /// Forms written `KEYWORD NAME = SUBWORD …` (`data d = csv "x.csv"`).
    public var bindsName: Bool
    public var category: Category
    public var parameters: [Parameter]
    /// What a block form's usage shows after its parameters (`{ LAYERS }`).
    public var body: String?
    public var summary: String
    public var example: String

    public init(_ keyword: String, _ category: Category, _ parameters: [Parameter] = [], body: String? = nil,
                summary: String, example: String) {
        self.init(keyword, nil, binds: false, category, parameters, body: body, summary: summary, example: example)
    }

    public init(_ keyword: String, _ subword: String?, binds: Bool = false, _ category: Category,
                _ parameters: [Parameter] = [], body: String? = nil, summary: String, example: String) {
        self.keyword = keyword
        self.subword = subword
        self.bindsName = binds
        self.category = category
        self.parameters = parameters
        self.body = body
        self.summary = summary
        self.example = example
    }

    /// The words that name the form: `show filters`, `data csv`.
    public var title: String { subword.map { "\(keyword) \($0)" } ?? keyword }

    /// `train NAME on DATA [epochs N] …`
    public var usage: String {
        var parts = [keyword]
        if bindsName { parts.append("NAME =") }
        if let subword { parts.append(subword) }
        parts += parameters.map(\.usage).filter { !$0.isEmpty }
        if let body { parts.append(body) }
        return parts.joined(separator: " ")
    }

    public func parameter(named name: String) -> Parameter? {
        parameters.first { $0.name == name }
    }
}
