import LoomCore

/// Tab completion: which words fit where the cursor is.
enum Completer {
    static func complete(_ code: String, cursor: Int, session: Session) -> Completion {
        let scalars = Array(code.unicodeScalars)
        let cursor = max(0, min(cursor, scalars.count))
        var start = cursor
        while start > 0, isWordScalar(scalars[start - 1]) { start -= 1 }
        let prefix = String(String.UnicodeScalarView(scalars[start..<cursor]))
        var lineStart = start
        while lineStart > 0, scalars[lineStart - 1] != "\n" { lineStart -= 1 }
        let before = String(String.UnicodeScalarView(scalars[lineStart..<start]))
        let words = before.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        let earlier = String(String.UnicodeScalarView(scalars[0..<lineStart]))
        let block = openBlock(in: earlier)
        let candidates: [String]
        if block == .layers, let last = words.last, last == Layers.share.name || last == "tied" {
            candidates = layerNames(inOpenModel: earlier)
        } else {
            candidates = self.candidates(words: words, in: block, session: session) + partNames(prefix, in: session)
        }
        var seen = Set<String>()
        let matches = candidates.filter { $0.hasPrefix(prefix) && $0 != prefix || ($0 == prefix && !prefix.isEmpty) }
            .filter { seen.insert($0).inserted }
            .sorted()
        return Completion(matches: matches, cursorStart: start, cursorEnd: cursor)
    }

    static func isWordScalar(_ c: Unicode.Scalar) -> Bool {
        c == "_" || c == "." || c.properties.isAlphabetic || ("0"..."9").contains(c)
    }

    /// The words that may come next after `words` on a line, inside `block`'s braces if any.
    static func candidates(words: [String], in block: BlockForm.Body?, session: Session) -> [String] {
        let closing = block == nil ? [] : ["}"]
        guard let first = words.first, first != "?" else {
            if block == .layers { return Layers.keywords + closing }
            return Statements.keywords + session.names + (words.isEmpty ? closing : Layers.keywords)
        }
        var forms = block == .layers ? Layers.all.filter { $0.keyword == first } : Statements.forms(of: first)
        if forms.isEmpty { return session.names }
        // A form without a second word among forms with one (`show NAME`).
        let bare = forms.contains(where: \.bindsName) ? nil : forms.first { $0.subword == nil }
        if words.count == 1 || (forms.contains(where: \.bindsName) && words.count == 3) {
            let subwords = forms.compactMap(\.subword)
            if !subwords.isEmpty && (forms.contains(where: \.bindsName) == (words.count == 3)) {
                return subwords + (bare?.parameters.first?.kind.referent.map { names($0, in: session) } ?? [])
            }
        }
        if let sub = words.dropFirst().first(where: { w in forms.contains { $0.subword == w } }) {
            forms = forms.filter { $0.subword == sub }
        } else if let bare, forms.contains(where: { $0.subword != nil }) {
            forms = [bare]
        }
        var out: [String] = []
        var namesOfAKind = false
        let last = words.last!
        for form in forms {
            if let p = form.parameter(named: last), case .choice(let options) = p.kind { return options }
            if form.parameter(named: last)?.kind == .every { return ["every"] }
            if let referent = form.parameter(named: last)?.kind.referent { return names(referent, in: session) }
            // The next positional name (`train ` → a model) comes first, of the kind it wants;
            // names (`compare a b `) go on until an option word.
            let arguments = words.dropFirst(form.bindsName ? 4 : (form.subword == nil ? 1 : 2))
            let positionals = form.parameters.filter { $0.positional && $0.kind != .newName }
            let list = positionals.firstIndex { if case .references = $0.kind { return true } else { return false } }
            let listGoesOn = list.map { arguments.count >= $0 && !arguments.contains(where: { form.parameter(named: $0) != nil }) } ?? false
            let next = listGoesOn ? list.map { positionals[$0] }
                : arguments.count < positionals.count ? positionals[arguments.count] : nil
            if let referent = next?.kind.referent {
                out += names(referent, in: session)
                namesOfAKind = true
            }
            for p in form.parameters where !words.contains(p.name) {
                if !p.positional { out.append(p.name) }
                if case .choice(let options) = p.kind, p.positional { out += options }
                if p.kind == .flag { out.append(p.name) }
            }
            if form.keyword == "help" { out += Statements.keywords + Layers.keywords }
        }
        return out + (namesOfAKind ? [] : session.names)
    }

    /// The session's names a parameter's declaration admits: models for
    /// `train`, data sets after `on`, any name for `delete`; for a part,
    /// each admitted object's parts (`show weights ` → `cnn.conv1`, …).
    static func names(_ referent: Referent, in session: Session) -> [String] {
        let admitted = session.names.filter { session[$0].map(referent.admits) ?? false }
        guard referent.part else { return admitted }
        return admitted.flatMap { name -> [String] in
            guard case .object(let object)? = session[name] else { return [] }
            return object.partNames.map { "\(name).\($0)" }
        }
    }

    /// An object's parts after its name and a dot (a model's layers: `show weights cnn.`).
    static func partNames(_ prefix: String, in session: Session) -> [String] {
        guard let dot = prefix.lastIndex(of: "."), case .object(let object)? = session[String(prefix[..<dot])] else {
            return []
        }
        return object.partNames.map { String(prefix[...dot]) + $0 }
    }

    /// The names of the layers declared so far in the innermost brace left
    /// open in `code`, as the model will name them (`as NAME`, else kind and
    /// position): what `share` and `tied` may name.
    static func layerNames(inOpenModel code: String) -> [String] {
        guard let tokens = try? Lexer.tokenize(code) else { return [] }
        var blocks: [[String]] = [[]]
        var counters: [[String: Int]] = [[:]]
        var line: [String] = []
        func endLine() {
            defer { line = [] }
            guard let keyword = line.first, let binding = Layers.binding(keyword) else { return }
            counters[counters.count - 1][binding.namePrefix, default: 0] += 1
            let given = line.firstIndex(of: Layers.name.name).flatMap { $0 + 1 < line.count ? line[$0 + 1] : nil }
            blocks[blocks.count - 1].append(given ?? "\(binding.namePrefix)\(counters[counters.count - 1][binding.namePrefix]!)")
        }
        for t in tokens {
            switch t.kind {
            case .newline: endLine()
            case .symbol("{"): line = []; blocks.append([]); counters.append([:])
            case .symbol("}"): endLine(); if blocks.count > 1 { blocks.removeLast(); counters.removeLast() }
            default: if let word = t.word { line.append(word) }
            }
        }
        return blocks.last ?? []
    }

    /// What the innermost brace left open in `code` holds, as the block form
    /// whose keyword last came before it on its line declares (a brace after
    /// no block's keyword counts as a model's).
    static func openBlock(in code: String) -> BlockForm.Body? {
        guard let tokens = try? Lexer.tokenize(code) else { return nil }
        var open: [BlockForm.Body] = []
        var form: BlockForm?
        for t in tokens {
            switch t.kind {
            case .newline: form = nil
            case .symbol("{"): open.append(form?.body ?? .layers)
            case .symbol("}"): _ = open.popLast()
            default: if let word = t.word, let block = Blocks.form(of: word) { form = block }
            }
        }
        return open.last
    }
}

/// Whether a cell can run as it stands (for consoles deciding on Enter).
enum CompletenessCheck {
    static func check(_ code: String) -> Completeness {
        let tokens: [Token]
        do { tokens = try Lexer.tokenize(code) } catch { return .invalid }
        var depth = 0
        for t in tokens {
            if t.kind == .symbol("{") { depth += 1 }
            if t.kind == .symbol("}") { depth -= 1 }
            if depth < 0 { return .invalid }
        }
        if depth > 0 { return .incomplete(indent: "  ") }
        if let last = tokens.dropLast().last(where: { $0.kind != .newline }), case .symbol(let c) = last.kind,
           "+-*/=,(".contains(c) {
            return .incomplete(indent: "")
        }
        do { _ = try Parser.parse(code) } catch { return .invalid }
        return .complete
    }
}
