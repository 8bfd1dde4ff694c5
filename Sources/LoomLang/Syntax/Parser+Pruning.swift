extension Parser {
    /// The words a gradual pruning schedule takes after `to P%`, each at most once.
    static let pruneScheduleWords = ["from", "to", "every", "global"]

    /// `to P% [from E1] [to E2] [every N] [global]` after `prune`: the share
    /// first, then `WORD=VALUE` pairs (`global` paired with a flag), as one list.
    mutating func parsePruneSchedule(_ p: Parameter, at t: Token) throws(LoomError) -> Expr {
        guard t.word == "to" else { throw unexpected(t, expected: "`to P%` after \(p.name): the share of weights to reach") }
        _ = advance()
        if atLineEnd { throw unexpected(peek, expected: "a share like 90% after `\(p.name) to`") }
        var items = [try parseUnary()]
        var seen: Set<String> = []
        while let word = peek.word, Parser.pruneScheduleWords.contains(word), !seen.contains(word) {
            let key = advance()
            seen.insert(word)
            let value: Expr
            if word == "global" {
                value = Expr(kind: .flag, range: key.range)
            } else {
                if atLineEnd { throw unexpected(peek, expected: "a number after `\(word)`") }
                value = try parseUnary()
            }
            items.append(Expr(kind: .column(Expr(kind: .name([word]), range: key.range), value), range: key.range.through(value.range)))
        }
        return Expr(kind: .list(items), range: t.range.through(items.last!.range))
    }

    /// `epoch E`, or `epochs E1 E2 …` up to the line's end or the form's next
    /// option word (`options`), as one list.
    mutating func parseEpochs(_ p: Parameter, at t: Token, options: Set<String>) throws(LoomError) -> Expr {
        guard let word = t.word, word == "epoch" || word == "epochs" else {
            throw unexpected(t, expected: "`epoch E` or `epochs E1 E2 …` after \(p.name)")
        }
        _ = advance()
        if atLineEnd { throw unexpected(peek, expected: "an epoch after `\(word)`") }
        var items = [try parseUnary()]
        while word == "epochs", !atLineEnd, !isSymbol(peek, "}"), !(peek.word.map(options.contains) ?? false) {
            items.append(try parseUnary())
        }
        return Expr(kind: .list(items), range: items[0].range.through(items.last!.range))
    }
}
