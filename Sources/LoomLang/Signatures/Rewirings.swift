import LoomCore
import LoomEngine

/// `train … rewire set|rigl [every N] [fraction F]`: how a line writes
/// dynamic sparse training, for the parser, `help`, the reader in `train`
/// and the fuzzers.
enum Rewirings {
    static let methods = Rewiring.Method.allCases.map(\.rawValue)
    /// `set|rigl [every N] [fraction F]`, for usage lines.
    static let placeholder = methods.joined(separator: "|") + " [every N] [fraction F]"
    /// The option words after the method.
    static let options = ["every", "fraction"]

    static let doc = "dynamic sparse training of the masked (`sparse P%`) weights: every N steps (default "
        + "\(Rewiring.defaultEvery)) each drops the share F (default \(Field<Int>.numberText(Rewiring.defaultFraction))) of its "
        + "nonzero weights with the smallest magnitudes and regrows as many among its zero ones — `set` at random (Mocanu et al. "
        + "2018), `rigl` where the dense gradient is largest, F decaying to 0 along a cosine (Evci et al. 2020); regrown weights "
        + "start at zero with fresh optimizer moments, so the sparsity stays exact; a weight pruned to N:M moves within its blocks, "
        + "so each keeps its N"

    /// `rigl every 50 fraction 0.2`: options written where they differ from their defaults.
    static func text(_ r: Rewiring) -> String {
        var words = [r.method.rawValue]
        if r.every != Rewiring.defaultEvery { words += ["every", String(r.every)] }
        if r.fraction != Rewiring.defaultFraction { words += ["fraction", Field<Int>.numberText(r.fraction)] }
        return words.joined(separator: " ")
    }

    static func draw(_ random: inout SplitMix64) -> Rewiring {
        Rewiring(Rewiring.Method.allCases[random.below(Rewiring.Method.allCases.count)],
                 every: random.below(2) == 0 ? Rewiring.defaultEvery : 1 + random.below(50),
                 fraction: random.below(2) == 0 ? Rewiring.defaultFraction : Double(1 + random.below(9)) / 10)
    }

    /// The rewiring a line's words make (the parser's list: the method, then
    /// option words each with its value); nil when none is given.
    static func read(_ items: [Expr], evaluator: Evaluator) throws(LoomError) -> Rewiring? {
        guard let word = items.first?.name?.first, let method = Rewiring.Method(rawValue: word) else { return nil }
        var rewiring = Rewiring(method)
        for pair in stride(from: 1, to: items.count - 1, by: 2) {
            let (option, e) = (items[pair].name?.first, items[pair + 1])
            guard let x = try evaluator.evaluate(e).numeric, x.isFinite else {
                throw LoomError(.value, "`\(option ?? "")` takes a number", at: e.range)
            }
            if option == "every" {
                guard x >= 1, x <= 1_000_000, x == x.rounded() else {
                    throw LoomError(.value, "`every N` counts steps: a whole number from 1 to 1,000,000", at: e.range)
                }
                rewiring.every = Int(x)
            } else {
                guard x > 0, x <= 1 else { throw LoomError(.value, "`fraction F` is a share above 0 and at most 1 (or 100%)", at: e.range) }
                rewiring.fraction = x
            }
        }
        return rewiring
    }
}
