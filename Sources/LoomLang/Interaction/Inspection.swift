import LoomCore

/// Shift-Tab help: the signature, doc and example of the word at the cursor.
enum Inspector {
    static func inspect(_ code: String, cursor: Int, session: Session) -> MimeBundle? {
        let scalars = Array(code.unicodeScalars)
        let cursor = max(0, min(cursor, scalars.count))
        var start = cursor, end = cursor
        while start > 0, Completer.isWordScalar(scalars[start - 1]) { start -= 1 }
        while end < scalars.count, Completer.isWordScalar(scalars[end]) { end += 1 }
        guard start < end else { return nil }
        let word = String(String.UnicodeScalarView(scalars[start..<end]))
        if let item = session[word] {
            return MimeBundle(text: "\(word): \(item.kindName) = \(item.describe)")
        }
        // A form's second word (`show filters`) is inspected as the form.
        var lineStart = start
        while lineStart > 0, scalars[lineStart - 1] != "\n" { lineStart -= 1 }
        let head = String(String.UnicodeScalarView(scalars[lineStart..<start]))
            .split(separator: " ").first.map(String.init)
        if let head, Statements.all.contains(where: { $0.keyword == head && $0.subword == word }) {
            return Help.explain("\(head) \(word)", width: session.width)
        }
        // A part after an object's name (a model's layer, `cnn.conv1`) says what it is.
        if let dot = word.lastIndex(of: "."), case .object(let object)? = session[String(word[..<dot])],
           let part = object.describePart(String(word[word.index(after: dot)...])) {
            return MimeBundle(text: "\(word): \(part)")
        }
        // A statement or layer word is explained as itself; an option's value (`relu`, `adam`) by what it means.
        return Help.explain(word, width: session.width) ?? ValueHelp.explain(word)
    }
}
