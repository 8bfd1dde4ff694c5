import LoomCore

/// Inputs (and plain-text outputs) of executed cells, across kernel sessions,
/// as `history_request` asks for them: the last n, a range, or a glob search.
///
/// Entries are appended to a JSON-lines file, so the history of earlier
/// sessions is there after a restart. The newest `limit` entries are kept,
/// and no more than `byteLimit` bytes of them: past a tenth more, the oldest
/// are dropped and the file is rewritten (an entry another kernel appends to
/// the same file in that moment can be lost). One entry keeps at most
/// `entryLimit` characters of a cell (and of its output), the rest replaced
/// by a note of its length, so one huge cell cannot make every later start
/// slow. At start only the file's last `byteLimit` bytes are read. Used from
/// the shell thread only.
public final class HistoryStore {
    public struct Entry: Equatable, Sendable {
        public var session: Int
        public var line: Int
        public var input: String
        public var output: String?
    }

    let path: String?
    let limit: Int
    let byteLimit: Int
    let entryLimit: Int
    /// The bytes the entries take in the file.
    private var bytes = 0
    /// Lines not yet in the file (the disk was full): written before the next entry.
    private var unsaved: [UInt8] = []
    public private(set) var entries: [Entry] = []
    /// This kernel's session number: one more than the last one stored.
    public let session: Int

    /// `path` nil keeps history in memory only. An unreadable or damaged file
    /// costs the old history (logged), never the kernel.
    public init(path: String?, limit: Int = 10_000, byteLimit: Int = 16 << 20, entryLimit: Int = 64 << 10) {
        self.path = path
        self.limit = max(1, limit)
        self.byteLimit = max(1024, byteLimit)
        self.entryLimit = max(64, entryLimit)
        if let path, Files.exists(path) {
            do {
                let (text, cut) = try Files.readTail(path, bytes: self.byteLimit)
                // A tail read starts inside a line: that line is left out.
                for line in text.split(separator: "\n").dropFirst(cut ? 1 : 0) {
                    guard let json = try? JSON.parse(String(line)),
                          let s = json["session"]?.intValue, let n = json["line"]?.intValue,
                          let input = json["input"]?.stringValue
                    else { continue }
                    entries.append(Entry(session: s, line: n, input: input, output: json["output"]?.stringValue))
                    bytes += line.utf8.count + 1
                }
            } catch {
                KernelLog.warning("history file not read: \(error)")
            }
        }
        session = (entries.map(\.session).max() ?? 0) + 1
        if entries.count > self.limit || bytes > self.byteLimit { trim() }
    }

    /// Keeps the newest `limit` entries that fit in `byteLimit`, in memory and in the file.
    private func trim() {
        var kept = 0, size = 0
        for entry in entries.reversed() {
            let n = HistoryStore.line(entry).count
            guard kept < limit, size + n <= byteLimit else { break }
            kept += 1
            size += n
        }
        entries.removeFirst(entries.count - kept)
        bytes = size
        guard let path else { return }
        let lines = entries.flatMap { HistoryStore.line($0) }
        do {
            try Files.writeAtomically(lines, to: path, mode: 0o600)
            unsaved = []
        } catch {
            KernelLog.warning("history not trimmed: \(error)")
        }
    }

    /// An entry as one line of the file.
    static func line(_ entry: Entry) -> [UInt8] {
        var json: JSONObject = ["session": .int(entry.session), "line": .int(entry.line), "input": .string(entry.input)]
        if let output = entry.output { json["output"] = .string(output) }
        return JSON.object(json).serialized() + [0x0A]
    }

    /// The default place: `$LOOM_HISTORY`, else `~/.local/share/loom/history.jsonl`.
    public static var defaultPath: String? {
        if let p = Files.environment("LOOM_HISTORY") { return p.isEmpty ? nil : p }
        guard let home = Files.environment("HOME") else { return nil }
        let dir = home + "/.local/share/loom"
        do { try Files.makeDirectories(dir) } catch { return nil }
        return dir + "/history.jsonl"
    }

    /// `text`, or its first `entryLimit` characters and a note of its length.
    func capped(_ text: String) -> String {
        guard text.utf8.count > entryLimit else { return text }
        let kept = String(text.unicodeScalars.prefix(entryLimit))
        return kept + "\n# … (\(text.utf8.count) bytes in all; the history keeps the first \(entryLimit) characters)"
    }

    public func record(line: Int, input: String, output: String?) {
        let entry = Entry(session: session, line: line, input: capped(input), output: output.map(capped))
        entries.append(entry)
        let encoded = HistoryStore.line(entry)
        bytes += encoded.count
        if entries.count > limit + max(1, limit / 10) || bytes > byteLimit + byteLimit / 10 {
            trim()
            return
        }
        guard let path else { return }
        if unsaved.count + encoded.count > byteLimit { unsaved = [] }
        do {
            try Files.append(unsaved + encoded, to: path)
            unsaved = []
        } catch {
            if unsaved.isEmpty { KernelLog.warning("history not saved (kept in memory, written with the next entry): \(error)") }
            unsaved += encoded
        }
    }

    /// The last `n` entries.
    public func tail(_ n: Int) -> [Entry] {
        Array(entries.suffix(max(0, n)))
    }

    /// Lines `start..<stop` of `session` (0: this one; negative: counted back
    /// from this one). A `stop` of nil or ≤ 0 means to the end.
    public func range(session: Int, start: Int, stop: Int?) -> [Entry] {
        let wanted = session > 0 ? session : self.session + session
        return entries.filter { e in
            e.session == wanted && e.line >= start && (stop.map { $0 <= 0 || e.line < $0 } ?? true)
        }
    }

    /// Entries whose input matches the glob `pattern` (`*`, `?`), the last `n`
    /// of them (all when n is nil); `unique` keeps the latest of equal inputs.
    public func search(pattern: String, n: Int?, unique: Bool) -> [Entry] {
        let glob = Array(pattern)
        var found = entries.filter { HistoryStore.matches(Array($0.input), glob) }
        if unique {
            var seen = Set<String>()
            found = found.reversed().filter { seen.insert($0.input).inserted }.reversed()
        }
        if let n, n > 0 { found = Array(found.suffix(n)) }
        return found
    }

    /// Glob matching with `*` and `?`, iterative so that long inputs cannot
    /// blow the stack.
    static func matches(_ text: [Character], _ glob: [Character]) -> Bool {
        var t = 0, g = 0
        var star = -1, mark = 0
        while t < text.count {
            if g < glob.count && (glob[g] == "?" || glob[g] == text[t]) {
                t += 1; g += 1
            } else if g < glob.count && glob[g] == "*" {
                star = g; mark = t; g += 1
            } else if star >= 0 {
                g = star + 1; mark += 1; t = mark
            } else {
                return false
            }
        }
        while g < glob.count && glob[g] == "*" { g += 1 }
        return g == glob.count
    }
}
