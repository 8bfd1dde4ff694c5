import LoomCore
import LoomEngine
import LoomRender

/// A name as a statement gives it (`digits.train`, `cnn.conv1`), and where
/// it was written, for messages. Handlers look up what it names.
struct Name: Sendable, Equatable {
    var parts: [String] = []
    var range = SourceRange(line: 0, column: 0, start: 0, end: 0)

    var text: String { parts.joined(separator: ".") }
    var expr: Expr { Expr(kind: .name(parts), range: range) }
}

/// The kinds of field statements add to those of layers: names, strings,
/// real numbers, shares, shapes, expressions and schedules.
extension Field {
    /// A name: a reference to what the session holds, a new name or a word.
    static func name(_ name: String, _ path: WritableKeyPath<Spec, Name> & Sendable, _ kind: ParameterKind,
                     positional: Bool = true, placeholder: String? = nil, _ doc: String) -> Field {
        .value(parameter(name, kind, positional: positional, hasDefault: nil, placeholder: placeholder, doc), path, default: nil,
               read: { a throws(LoomError) in try a.written(name) }, text: \.text, draw: { drawName(kind, &$0) })
    }

    /// A name that may be left out.
    static func optionalName(_ name: String, _ path: WritableKeyPath<Spec, Name?> & Sendable, _ kind: ParameterKind,
                             positional: Bool = false, placeholder: String? = nil, _ doc: String) -> Field {
        .optional(Parameter(name, kind, positional: positional, placeholder: placeholder, doc), path,
                  read: { a throws(LoomError) in a.given(name) ? try a.written(name) : nil }, text: \.text,
                  draw: { drawName(kind, &$0) })
    }

    /// Names up to the next option word (`compare a b on d`), positional.
    static func names(_ name: String, _ path: WritableKeyPath<Spec, [Name]> & Sendable, _ kind: ParameterKind,
                      placeholder: String? = nil, _ doc: String) -> Field {
        .value(parameter(name, kind, positional: true, hasDefault: nil, placeholder: placeholder, doc), path, default: nil,
               read: { a throws(LoomError) in a.items(name).compactMap { e in e.name.map { Name(parts: $0, range: e.range) } } },
               text: { $0.map(\.text).joined(separator: " ") },
               draw: { random in (0...random.below(3)).map { _ in drawName(kind, &random) } })
    }

    /// A string (a file's path), written in quotes.
    static func string(_ name: String, _ path: WritableKeyPath<Spec, String> & Sendable, positional: Bool = true,
                       _ doc: String) -> Field {
        .value(parameter(name, .string, positional: positional, hasDefault: nil, doc), path, default: nil,
               read: { a throws(LoomError) in try a.string(name) }, text: quoted, draw: drawPath)
    }

    /// A string that may be left out, or that a form requires where another shares its request (`idx … labels`);
    /// a path unless `placeholder` says what else (`KEY`).
    static func optionalString(_ name: String, _ path: WritableKeyPath<Spec, String?> & Sendable, required: Bool = false,
                               placeholder: String? = nil, _ doc: String) -> Field {
        .optional(Parameter(name, .string, required: required, placeholder: placeholder, doc), path,
                  read: { a throws(LoomError) in a.given(name) ? try a.string(name) : nil }, text: quoted, draw: drawPath)
    }

    /// Paths, or nothing: one string or a list of them (`["a.png", "b.png"]`).
    static func optionalPaths(_ name: String, _ path: WritableKeyPath<Spec, [String]?> & Sendable, _ doc: String) -> Field {
        .optional(Parameter(name, .string, placeholder: "PATH|[PATH, …]", doc), path,
                  read: { a throws(LoomError) in a.given(name) ? try a.paths(name) : nil },
                  text: { $0.count == 1 ? quoted($0[0]) : "[" + $0.map(quoted).joined(separator: ", ") + "]" },
                  draw: { random in (0...random.below(2)).map { _ in drawPath(&random) } })
    }

    /// A number within `bounds`, or a share (`.fraction`: `0.8` or `80%`).
    static func number(_ name: String, _ path: WritableKeyPath<Spec, Double> & Sendable, _ kind: ParameterKind = .number,
                       in bounds: Bounds? = nil, positional: Bool = false, default value: Double? = nil,
                       placeholder: String? = nil, _ doc: String) -> Field {
        .value(parameter(name, kind, positional: positional, hasDefault: value.map(numberText), bounds: bounds,
                         placeholder: placeholder, doc),
               path, default: value, read: { a throws(LoomError) in try a.number(name) }, text: numberText,
               draw: { drawNumber(kind, bounds, &$0) })
    }

    /// A share or an N:M pattern (`prune`'s amount), positional.
    static func pruneAmount(_ name: String, _ path: WritableKeyPath<Spec, PruneAmount> & Sendable, placeholder: String,
                            _ doc: String) -> Field {
        .value(parameter(name, .shareOrPattern, positional: true, hasDefault: nil, placeholder: placeholder, doc), path,
               default: nil, read: { a throws(LoomError) in try a.pruneAmount(name) }, text: \.text,
               draw: { random in
                   guard random.below(2) == 0 else { return .share(drawNumber(.fraction, nil, &random)) }
                   let kept = 1 + random.below(4)
                   return .pattern(kept: kept, block: kept + 1 + random.below(8))
               })
    }

    /// A number within `bounds`, or nothing.
    static func optionalNumber(_ name: String, _ path: WritableKeyPath<Spec, Double?> & Sendable, in bounds: Bounds? = nil,
                               placeholder: String? = nil, _ doc: String) -> Field {
        .optional(Parameter(name, .number, in: bounds, placeholder: placeholder, doc), path,
                  read: { a throws(LoomError) in try a.optionalNumber(name) }, text: numberText,
                  draw: { drawNumber(.number, bounds, &$0) })
    }

    /// A shape (`8x8`, or one number), or nothing.
    static func shape(_ name: String, _ path: WritableKeyPath<Spec, [Int]?> & Sendable, _ doc: String) -> Field {
        .optional(Parameter(name, .shape, doc), path, read: { a throws(LoomError) in try a.optionalShape(name) },
                  text: { Shape.text($0) }, draw: { random in (0...random.below(3)).map { _ in 1 + random.below(8) } })
    }

    /// A case of `E`, or nothing (`target inputs`; `encode`'s coder, which other options imply).
    static func optionalChoice<E: CaseIterable & RawRepresentable & Equatable & Sendable>(
        _ name: String, _ path: WritableKeyPath<Spec, E?> & Sendable, positional: Bool = false, _ doc: String
    ) -> Field where E.RawValue == String {
        .optional(Parameter(name, .choice(of: E.self), positional: positional, doc), path,
                  read: { a throws(LoomError) in a.given(name) ? try a.choice(name, E.self) : nil }, text: \.rawValue,
                  draw: { random in Array(E.allCases)[random.below(E.allCases.count)] })
    }

    /// Expressions to the end of the line (`print`), or `COLUMN=EXPR` pairs
    /// (`record`, `.columns`): kept unevaluated, for the handler to evaluate in order.
    static func expressions(_ name: String, _ path: WritableKeyPath<Spec, [Expr]> & Sendable, _ kind: ParameterKind,
                            required: Bool = false, _ doc: String) -> Field {
        Field(parameter: Parameter(name, kind, required: required, positional: true, doc),
              read: { a, spec throws(LoomError) in spec[keyPath: path] = a.items(name) },
              write: { spec in spec[keyPath: path].isEmpty ? nil : spec[keyPath: path].map(\.source).joined(separator: " ") },
              draw: { spec, random in
                  spec[keyPath: path] = (0..<(required ? 1 : 0) + random.below(3)).map { i in
                      let value = random.below(2) == 0 ? Expr(kind: .number(Double(random.below(100)) / 4), range: Name().range)
                          : Expr(kind: .string("s\(random.below(10))"), range: Name().range)
                      return kind == .columns ? Expr(kind: .column(Expr(kind: .name(["c\(i)"]), range: value.range), value),
                                                     range: value.range) : value
                  }
              },
              holds: { $0 == path })
    }

    /// A learning-rate schedule (`step 5 0.5`), read and written by `Schedules`.
    static func schedule(_ name: String, _ path: WritableKeyPath<Spec, LearningRateSchedule?> & Sendable, _ doc: String) -> Field {
        .optional(Parameter(name, .schedule, doc), path,
                  read: { a throws(LoomError) in try Schedules.read(a.items(name), evaluator: a.evaluator) },
                  text: Schedules.text, draw: Schedules.draw)
    }

    /// Dynamic sparse training (`rigl every 50`), read and written by
    /// `Rewirings`. Drawn one time in eight: it needs a model with masks,
    /// which random models seldom have.
    static func rewiring(_ name: String, _ path: WritableKeyPath<Spec, Rewiring?> & Sendable, _ doc: String) -> Field {
        let field = Field.optional(Parameter(name, .rewiring, doc), path,
                                   read: { a throws(LoomError) in try Rewirings.read(a.items(name), evaluator: a.evaluator) },
                                   text: Rewirings.text, draw: Rewirings.draw)
        return Field(parameter: field.parameter, read: field.read, write: field.write,
                     draw: { spec, random in spec[keyPath: path] = random.below(8) == 0 ? Rewirings.draw(&random) : nil },
                     holds: field.holds)
    }

    // MARK: text and draws

    /// A number as a line writes it: `3`, `0.25`, `1e-05`.
    static func numberText(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : "\(x)"
    }

    /// A string in quotes, its quotes and backslashes escaped.
    static func quoted(_ s: String) -> String {
        "\"" + s.map { $0 == "\\" || $0 == "\"" ? "\\\($0)" : String($0) }.joined() + "\""
    }

    static func drawPath(_ random: inout SplitMix64) -> String { "f\(random.below(100)).\(["csv", "npy", "safetensors"][random.below(3)])" }

    /// A name no form or option uses: `v7`, `v7.l2` for a part.
    static func drawName(_ kind: ParameterKind, _ random: inout SplitMix64) -> Name {
        var parts = ["v\(random.below(100))"]
        if kind.referent?.part == true { parts.append("l\(random.below(10))") }
        return Name(parts: parts)
    }

    /// Round numbers within `bounds`, as users write them; a share from 1% to 99%.
    static func drawNumber(_ kind: ParameterKind, _ bounds: Bounds?, _ random: inout SplitMix64) -> Double {
        let x = kind == .fraction ? Double(1 + random.below(99)) / 100
            : [0.001, 0.01, 0.1, 0.25, 1, 10][random.below(6)] * Double(1 + random.below(9))
        guard let bounds, !bounds.contains(x) else { return x }
        return bounds.lower + (bounds.excludesLower ? 0.5 : 0)
    }
}

extension Arguments {
    /// The name written for `name`, and where.
    func written(_ name: String) throws(LoomError) -> Name {
        let expr = try expression(name)
        guard let parts = expr.name else { throw LoomError(.type, "\(name) must be a name", at: expr.range) }
        return Name(parts: parts, range: expr.range)
    }

    /// A share (`80%`, `0.8`) or an N:M pattern with 1 ≤ N < M ≤ 1024; a bad
    /// pattern's error points at the number at fault (at the whole for N ≥ M).
    func pruneAmount(_ name: String) throws(LoomError) -> PruneAmount {
        let expr = try expression(name)
        guard case .list(let parts) = expr.kind, parts.count == 2 else { return .share(try number(name)) }
        var numbers: [Int] = []
        for (part, least) in zip(parts, [1, 2]) {
            let value = try evaluator.evaluate(part)
            guard case .number(let x) = value, x == x.rounded(), x >= Double(least), x <= Double(PruneAmount.largestBlock) else {
                throw LoomError(.value, "an N:M pattern takes whole numbers with 1 ≤ N < M ≤ \(PruneAmount.largestBlock), "
                                + "like 2:4; \(numbers.isEmpty ? "N" : "M") is \(value.precise)", at: part.range)
            }
            numbers.append(Int(x))
        }
        guard numbers[0] < numbers[1] else {
            throw LoomError(.value, "an N:M pattern keeps N of every M weights, so N must be below M, not \(numbers[0]):\(numbers[1]); "
                            + "like 2:4", at: expr.range)
        }
        return .pattern(kept: numbers[0], block: numbers[1])
    }

    /// The items of a list argument (`print`'s values, `compare`'s models, a schedule's words); none when left out.
    func items(_ name: String) -> [Expr] {
        guard case .list(let items)? = command.argument(name)?.kind else { return [] }
        return items
    }
}

extension Expr {
    /// The expression as a line writes it (what the fields' writer and the fuzzers draw: literals, names, `=` pairs).
    var source: String {
        switch kind {
        case .number(let x): return Field<Int>.numberText(x)
        case .percent(let p): return NumberFormat.short(p * 100, significant: 6) + "%"
        case .shape(let dims): return Shape.text(dims)
        case .string(let s): return Field<Int>.quoted(s)
        case .name(let parts): return parts.joined(separator: ".")
        case .negate(let e): return "-" + e.source
        case .column(let l, let r): return l.source + "=" + r.source
        // A chain is flat: its terms are written in a loop, in one pair of parentheses.
        case .chain(let first, let rest): return "(" + first.source + rest.map { " \($0.op) " + $0.operand.source }.joined() + ")"
        case .list(let items): return items.map(\.source).joined(separator: " ")
        case .array(let items): return "[" + items.map(\.source).joined(separator: ", ") + "]"
        case .flag: return ""
        }
    }
}
