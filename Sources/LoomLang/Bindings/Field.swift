import LoomCore
import LoomEngine
import LoomRender

/// One argument of a layer line or a statement, bound by key path to a
/// property of the engine's spec or of the statement's request. Its
/// parameter (name, kind, bounds or choices, default, doc) is what
/// parsing, checking, `help`, completion and the reference read; the
/// same declaration sets the property from a line, writes it back as words
/// of the line (so `save` and `load` round-trip by construction), and draws a
/// random valid value (for the round-trip test and the model fuzzer).
struct Field<Spec>: Sendable {
    let parameter: Parameter
    let read: @Sendable (Arguments, inout Spec) throws(LoomError) -> Void
    /// The line's words for this field (`7`, `stride 2`, `sequences`); nil
    /// when it is left out (an option at its default, an unset flag).
    let write: @Sendable (Spec) -> String?
    let draw: @Sendable (inout Spec, inout SplitMix64) -> Void
    /// Whether the field is bound to the property `path` names (what
    /// `Request.range(of:)` and `given` look fields up by).
    var holds: @Sendable (AnyKeyPath) -> Bool = { _ in false }
}

extension Field {
    /// A field holding a value of type `V`: a positional one is always
    /// written, an option only when it differs from its default.
    static func value<V: Equatable & Sendable>(_ parameter: Parameter, _ path: WritableKeyPath<Spec, V> & Sendable, default value: V?,
                                               read: @escaping @Sendable (Arguments) throws(LoomError) -> V,
                                               text: @escaping @Sendable (V) -> String,
                                               draw: @escaping @Sendable (inout SplitMix64) -> V) -> Field {
        Field(parameter: parameter,
              read: { a, spec throws(LoomError) in spec[keyPath: path] = try read(a) },
              write: { spec in
                  let v = spec[keyPath: path]
                  if parameter.positional { return text(v) }
                  return v == value ? nil : "\(parameter.name) \(text(v))"
              },
              draw: { spec, random in spec[keyPath: path] = random.below(4) == 0 ? value ?? draw(&random) : draw(&random) },
              holds: { $0 == path })
    }

    /// An option that may be left out (nil): written as `NAME VALUE` when set
    /// (a positional one as its value alone); one the form requires is always drawn.
    static func optional<V: Equatable & Sendable>(_ parameter: Parameter, _ path: WritableKeyPath<Spec, V?> & Sendable,
                                                  read: @escaping @Sendable (Arguments) throws(LoomError) -> V?,
                                                  text: @escaping @Sendable (V) -> String,
                                                  draw: @escaping @Sendable (inout SplitMix64) -> V) -> Field {
        Field(parameter: parameter,
              read: { a, spec throws(LoomError) in spec[keyPath: path] = try read(a) },
              write: { spec in spec[keyPath: path].map { parameter.positional ? text($0) : "\(parameter.name) \(text($0))" } },
              draw: { spec, random in spec[keyPath: path] = !parameter.required && random.below(2) == 0 ? nil : draw(&random) },
              holds: { $0 == path })
    }

    /// This field of a part of a larger request (`\.coder`), so that a group
    /// of options is declared once for every request holding it; `paths`
    /// are the part's key paths, by which the larger request's key paths
    /// through `root` (`\.coder.alpha`) are recognised.
    func lifted<Whole>(into root: WritableKeyPath<Whole, Spec> & Sendable, paths: [PartialKeyPath<Spec> & Sendable]) -> Field<Whole> {
        let inner = self
        return Field<Whole>(parameter: parameter,
                            read: { a, whole throws(LoomError) in try inner.read(a, &whole[keyPath: root]) },
                            write: { whole in inner.write(whole[keyPath: root]) },
                            draw: { whole, random in inner.draw(&whole[keyPath: root], &random) },
                            holds: { path in
                                paths.contains { inner.holds($0) && path == (root as AnyKeyPath).appending(path: $0 as AnyKeyPath) }
                            })
    }

    /// A parameter written when required and given (a positional one), or
    /// with a default (an option).
    static func parameter(_ name: String, _ kind: ParameterKind, positional: Bool, hasDefault: String?,
                                  bounds: Bounds? = nil, placeholder: String? = nil, _ doc: String) -> Parameter {
        Parameter(name, kind, required: hasDefault == nil, positional: positional, default: hasDefault, in: bounds,
                  placeholder: placeholder, doc)
    }

    // MARK: kinds

    /// A whole number from `range`.
    /// `label` names it in messages where its name would not (`threads` for `set threads N`).
    static func integer(_ name: String, _ path: WritableKeyPath<Spec, Int> & Sendable, in range: ClosedRange<Int>,
                        positional: Bool = false, default value: Int? = nil, placeholder: String? = nil, as label: String? = nil,
                        _ doc: String) -> Field {
        .value(parameter(name, .integer, positional: positional, hasDefault: value.map(String.init), bounds: Bounds(range),
                         placeholder: placeholder, doc),
               path, default: value, read: { a throws(LoomError) in try a.integer(name, as: label) }, text: String.init,
               draw: { drawInteger(range, &$0) })
    }

    /// A whole number from `range`, or nothing; `narrowed` when the handler
    /// checks it against a range within, which only the session knows
    /// (`Request.integer(_:within:)`), so its message names that range.
    static func optionalInteger(_ name: String, _ path: WritableKeyPath<Spec, Int?> & Sendable, in range: ClosedRange<Int>,
                                narrowed: Bool = false, placeholder: String? = nil, _ doc: String) -> Field {
        .optional(Parameter(name, .integer, in: range, placeholder: placeholder, doc), path,
                  read: { a throws(LoomError) in try a.optionalInteger(name, bounded: !narrowed) }, text: String.init,
                  draw: { drawInteger(range, &$0) })
    }

    /// A number within `bounds`, kept as a `Float`.
    static func number(_ name: String, _ path: WritableKeyPath<Spec, Float> & Sendable, in bounds: Bounds, positional: Bool = false,
                       default value: Float? = nil, placeholder: String? = nil, _ doc: String) -> Field {
        .value(parameter(name, .number, positional: positional, hasDefault: value.map { "\($0)" }, bounds: bounds,
                         placeholder: placeholder, doc),
               path, default: value, read: { a throws(LoomError) in Float(try a.number(name)) }, text: { "\($0)" },
               draw: { random in
                   // Round values, the very small ones too: what users write, and what a writer may get wrong.
                   let x = Float([0.001, 0.01, 0.1, 0.25, 1, 1e-5, 2.5e-7][random.below(7)]) * Float(1 + random.below(9))
                   return bounds.contains(Double(x)) ? x : Float(bounds.lower + (bounds.excludesLower ? 0.5 : 0))
               })
    }

    /// A share written as a percentage (`sparse 80%`), or nothing.
    static func percent(_ name: String, _ path: WritableKeyPath<Spec, Double?> & Sendable, placeholder: String = "P%",
                        _ doc: String) -> Field {
        .optional(Parameter(name, .fraction, in: .belowOne, placeholder: placeholder, doc), path,
                  read: { a throws(LoomError) in try a.optionalNumber(name) }, text: percentText,
                  draw: { Double(1 + $0.below(99)) / 100 })
    }

    /// A case of `E`, named by its raw value.
    static func choice<E: CaseIterable & RawRepresentable & Equatable & Sendable>(
        _ name: String, _ path: WritableKeyPath<Spec, E> & Sendable, positional: Bool = false, default value: E? = nil,
        _ doc: String) -> Field where E.RawValue == String {
        .value(parameter(name, .choice(of: E.self), positional: positional, hasDefault: value?.rawValue, doc),
               path, default: value, read: { a throws(LoomError) in try a.choice(name, E.self) }, text: \.rawValue,
               draw: { random in Array(E.allCases)[random.below(E.allCases.count)] })
    }

    /// Present or not: written as the word itself.
    static func flag(_ name: String, _ path: WritableKeyPath<Spec, Bool> & Sendable, _ doc: String) -> Field {
        Field(parameter: Parameter(name, .flag, doc),
              read: { a, spec throws(LoomError) in spec[keyPath: path] = a.flag(name) },
              write: { spec in spec[keyPath: path] ? name : nil },
              draw: { spec, random in spec[keyPath: path] = random.below(2) == 0 },
              holds: { $0 == path })
    }

    /// A window (`3x3`, or `3` for a square), positional.
    static func window(_ name: String, _ path: WritableKeyPath<Spec, Window> & Sendable, default value: Window? = nil,
                       _ doc: String) -> Field {
        .value(parameter(name, .shape, positional: true, hasDefault: value.map { $0.height == $0.width ? String($0.height) : $0.text }, doc),
               path, default: value, read: { a throws(LoomError) in try a.window(name) }, text: \.text,
               draw: { random in Window(1 + random.below(5), 1 + random.below(5)) })
    }

    /// A count of units or a share of them (`10` or `10%`).
    static func count(_ name: String, _ path: WritableKeyPath<Spec, KWinnersSpec.Count> & Sendable, _ doc: String) -> Field {
        .value(parameter(name, .countOrPercent, positional: true, hasDefault: nil, doc), path, default: nil,
               read: { a throws(LoomError) in try a.count(name) }, text: countText, draw: drawCount)
    }

    /// A count or share that may be left out.
    static func optionalCount(_ name: String, _ path: WritableKeyPath<Spec, KWinnersSpec.Count?> & Sendable,
                              _ doc: String) -> Field {
        .optional(Parameter(name, .countOrPercent, placeholder: "K|K%", doc), path,
                  read: { a throws(LoomError) in a.given(name) ? try a.count(name) : nil }, text: countText, draw: drawCount)
    }

    /// An earlier layer's name, or nothing (`tied h1`). Drawn as nothing: which
    /// names fit depends on the lines before, which the model fuzzer knows.
    static func layerName(_ name: String, _ path: WritableKeyPath<Spec, String?> & Sendable, _ doc: String) -> Field {
        Field(parameter: Parameter(name, .word, placeholder: "LAYER", doc),
              read: { a, spec throws(LoomError) in spec[keyPath: path] = a.word(name) },
              write: { spec in spec[keyPath: path].map { "\(name) \($0)" } },
              draw: { spec, _ in spec[keyPath: path] = nil },
              holds: { $0 == path })
    }

    /// A word the line must hold that the spec does not keep (`activity l1`:
    /// the one penalty there is).
    static func word(_ name: String, _ word: String, _ doc: String) -> Field {
        Field(parameter: Parameter(name, .choice([word]), required: true, positional: true, doc),
              read: { _, _ in }, write: { _ in word }, draw: { _, _ in })
    }

    // MARK: text and draws

    /// `80%` for 0.8.
    static func percentText(_ share: Double) -> String { NumberFormat.short(share * 100, significant: 6) + "%" }

    /// A winners count as a line writes it: `10` or `10%`.
    static func countText(_ k: KWinnersSpec.Count) -> String {
        switch k {
        case .units(let n): return String(n)
        case .share(let f): return percentText(f)
        }
    }

    static func drawCount(_ random: inout SplitMix64) -> KWinnersSpec.Count {
        random.below(2) == 0 ? .units(1 + random.below(20)) : .share(Double(1 + random.below(100)) / 100)
    }

    /// Small values from the bottom of `range`: models the fuzzer can afford.
    static func drawInteger(_ range: ClosedRange<Int>, _ random: inout SplitMix64) -> Int {
        range.lowerBound + random.below(min(12, range.count))
    }
}
