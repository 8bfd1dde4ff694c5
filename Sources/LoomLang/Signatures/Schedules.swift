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

        /// `step EVERY FACTOR`
        var usage: String { ([word] + numbers.map(\.name)).joined(separator: " ") }
    }

    static let forms: [Form] = [
        Form(word: "step", numbers: [("EVERY", true), ("FACTOR", false)]) { .step(every: Int($0[0]), factor: $0[1]) },
        Form(word: "cosine", numbers: []) { _ in .cosine },
        Form(word: "warmup", numbers: [("N", true)]) { .warmup(epochs: Int($0[0])) },
    ]

    static func form(_ word: String) -> Form? { forms.first { $0.word == word } }

    /// `` `step EVERY FACTOR`, `cosine` or `warmup N` ``
    static var choices: String {
        let quoted = forms.map { "`\($0.usage)`" }
        return quoted.dropLast().joined(separator: ", ") + " or " + quoted.last!
    }

    /// `step EVERY FACTOR|cosine|warmup N`, for usage lines.
    static var placeholder: String { forms.map(\.usage).joined(separator: "|") }

    /// A random schedule as a line writes it (small whole numbers, factors
    /// below 1), for the fuzzers.
    public static func random(_ random: inout SplitMix64) -> String {
        let form = forms[random.below(forms.count)]
        let numbers = form.numbers.map { $0.whole ? String(1 + random.below(3)) : "0.\(1 + random.below(9))" }
        return ([form.word] + numbers).joined(separator: " ")
    }
}
