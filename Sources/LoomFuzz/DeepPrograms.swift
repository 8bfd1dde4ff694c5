import LoomCore
import LoomLang

/// Programs of long chains, deep nesting and self-sharing list values,
/// written from a few bytes: a byte picks a piece, the next ones its size,
/// so 64 bytes can ask for a 250,000-term sum, a list nested 100,000 times
/// or one doubled 40 times, then walk it (print, list, delete, a model
/// definition, a loop, a record). Every such program must end in a value or
/// a clear error within seconds, in bounded stack and memory.
public enum DeepPrograms {
    /// The program `bytes` describe (bytes past the end read as zeros).
    public static func program(from bytes: [UInt8]) -> String {
        var reader = Reader(bytes: bytes)
        var lines: [String] = []
        for _ in 0..<(1 + reader.next() % 8) {
            lines.append(piece(&reader))
        }
        return lines.joined(separator: "\n")
    }

    static let terms = ["1", "2", "x", "\"s\"", "10%", "(1 + 2)", "l", "-1", "3x3", "[1, 2]"]
    static let operators = ["+", "-", "*", "/"]
    /// What may end a chain, one time in four: a mistake (a syntax error stops the whole cell).
    static let mistakes = [" +", " )", " (", " ]", " [", " *", " = 1"]
    /// Statements that walk whatever `l` holds.
    static let walks = [
        "print l", "list", "delete l", "l", "show l", "x = \"\" + l", "for v in l { x = v }", "record t a=l b=1",
        "show table t", "model m {\n  input 4\n  dense 2\n}", "model c = copy m", "x = l + 1", "l = [l, x, \"s\"]",
        "print [l] [l, l]", "for k in l l { print k }",
    ]

    static func piece(_ r: inout Reader) -> String {
        switch r.next() % 8 {
        case 0:
            // A flat chain of up to 262,140 terms, perhaps ending in a mistake.
            let count = 1 + (r.next() << 8 | r.next()) * 4
            let op = operators[r.next() % operators.count], term = terms[r.next() % terms.count]
            let mixed = r.next() % 2 == 0
            var text = "x = " + term
            text.reserveCapacity(count * (term.utf8.count + 3))
            for n in 1..<count {
                text += mixed ? operators[n % operators.count] : op
                text += mixed ? terms[(n * 7) % terms.count] : term
            }
            return text + (r.next() % 4 == 3 ? mistakes[r.next() % mistakes.count] : "")
        case 1:
            // `l = [l]` up to 100,000 times: past the depth limit, an error.
            let count = 1 + (r.next() << 8 | r.next()) * 2
            return "l = 0\nfor a in " + String(repeating: "1 ", count: min(count, 100_000)) + "{ l = [l] }"
        case 2:
            // `l = [l, l]` up to 40 times: past the count limit, an error.
            let count = 1 + r.next() % 40
            return "l = 1\nfor a in " + String(repeating: "1 ", count: count) + "{ l = [l, l] }"
        case 3:
            // Brackets, parentheses or signs nested around a value (past 200, an error).
            let count = r.next()
            switch r.next() % 3 {
            case 0: return "l = " + String(repeating: "[", count: count) + "1" + String(repeating: "]", count: count)
            case 1: return "x = " + String(repeating: "(", count: count) + "1" + String(repeating: ")", count: count)
            default: return "x = " + String(repeating: "-", count: count) + "1"
            }
        case 4:
            // Blocks on one line, inside each other.
            let depth = 1 + r.next() % 6
            return String(repeating: "for k in 1 2 { ", count: depth) + "x = k" + String(repeating: " }", count: depth)
        case 5:
            // A long string made by a chain, wrapped in a list.
            let count = 1 + (r.next() << 8 | r.next())
            return "s = \"\"" + String(repeating: " + \"abc \"", count: count) + "\nl = [s, s, s]"
        default:
            return walks[r.next() % walks.count]
        }
    }

    /// The bytes, one at a time; zeros past the end.
    struct Reader {
        let bytes: [UInt8]
        var i = 0
        mutating func next() -> Int {
            defer { i += 1 }
            return i < bytes.count ? Int(bytes[i]) : 0
        }
    }
}

extension Fuzzer {
    /// A program of `DeepPrograms` from 64 random bytes.
    public mutating func deepProgram() -> String {
        DeepPrograms.program(from: bytes(maxCount: 64))
    }
}
