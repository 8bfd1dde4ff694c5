import LoomCore
import LoomEngine

/// The learning-rate schedules a `train` line can name, in one table: each
/// form's word, the numbers after it and the engine schedule they make. The
/// parser, `help`, the reader in `train` and the fuzzers all read it.
public enum Schedules {
    struct Form: Sendable {
        let word: String
        /// The numbers after the word, as usage names them; a whole one is a count of epochs.
        let numbers: [(name: String, whole: Bool)]
        let make: @Sendable ([Double]) -> LearningRateSchedule
        /// The numbers of a schedule of this form; nil for another form's.
        let numbersOf: @Sendable (LearningRateSchedule) -> [Double]?

        /// `step EVERY FACTOR`
        var usage: String { ([word] + numbers.map(\.name)).joined(separator: " ") }
    }

    static let forms: [Form] = [
        Form(word: "step", numbers: [("EVERY", true), ("FACTOR", false)], make: { .step(every: Int($0[0]), factor: $0[1]) },
             numbersOf: { if case .step(let every, let factor) = $0 { [Double(every), factor] } else { nil } }),
        Form(word: "cosine", numbers: [], make: { _ in .cosine }, numbersOf: { $0 == .cosine ? [] : nil }),
        Form(word: "warmup", numbers: [("N", true)], make: { .warmup(epochs: Int($0[0])) },
             numbersOf: { if case .warmup(let n) = $0 { [Double(n)] } else { nil } }),
    ]

    static func form(_ word: String) -> Form? { forms.first { $0.word == word } }

    /// `` `step EVERY FACTOR`, `cosine` or `warmup N` ``
    static var choices: String {
        let quoted = forms.map { "`\($0.usage)`" }
        return quoted.dropLast().joined(separator: ", ") + " or " + quoted.last!
    }

    /// `step EVERY FACTOR|cosine|warmup N`, for usage lines.
    static var placeholder: String { forms.map(\.usage).joined(separator: "|") }

    /// A random schedule (small whole numbers, factors below 1), for the
    /// round-trip test and the fuzzers.
    static func draw(_ random: inout SplitMix64) -> LearningRateSchedule {
        let form = forms[random.below(forms.count)]
        return form.make(form.numbers.map { $0.whole ? Double(1 + random.below(3)) : Double(1 + random.below(9)) / 10 })
    }

    /// A random schedule as a line writes it.
    public static func random(_ random: inout SplitMix64) -> String { text(draw(&random)) }

    /// `step 5 0.5`: a schedule as a line writes it.
    static func text(_ schedule: LearningRateSchedule) -> String {
        for form in forms {
            if let numbers = form.numbersOf(schedule) { return ([form.word] + numbers.map(Field<Int>.numberText)).joined(separator: " ") }
        }
        return ""
    }

    /// The schedule a line's words make (`step 5 0.5`): positive numbers,
    /// whole where they count epochs; nil when none is given.
    static func read(_ items: [Expr], evaluator: Evaluator) throws(LoomError) -> LearningRateSchedule? {
        guard let word = items.first?.name?.first, let form = form(word) else { return nil }
        var numbers: [Double] = []
        for (e, number) in zip(items.dropFirst(), form.numbers) {
            guard let x = try evaluator.evaluate(e).numeric, x.isFinite, x > 0 else {
                throw LoomError(.value, "a schedule takes positive numbers", at: e.range)
            }
            guard x < 1e9 else { throw LoomError(.value, "\(number.name) must be below 1,000,000,000", at: e.range) }
            guard !number.whole || x == x.rounded() else {
                throw LoomError(.value, "`\(form.usage)`: \(number.name) is a whole number of epochs", at: e.range)
            }
            numbers.append(x)
        }
        return form.make(numbers)
    }
}
