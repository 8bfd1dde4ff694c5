import LoomCore
import LoomEngine
import LoomRender

/// A table of results that `record` fills a row at a time: the outcome of
/// a sweep, shown by `show table` or a bare name, saved as CSV.
public final class SessionTable: SessionObject {
    public private(set) var columns: [String] = []
    /// Row by row; nil where a row has no value for a column added later.
    public private(set) var rows: [[Value?]] = []

    public static let kind = "table"
    public static let noun = "results table"
    public var describe: String { "\(rows.count) row(s) of \(columns.joined(separator: ", "))" }
    public func display(as name: String, width: Int) -> [MimeBundle] { [table(as: name, width: width)] }
    /// The rows as CSV.
    public func savedFile(as name: String) -> SavedFile? { SavedFile(bytes: Array(csv.utf8), summary: "\(name) (\(describe)) as CSV") }
    public var bytes: Int { rows.reduce(0) { $0 + $1.reduce(0) { $0 + ($1?.bytes ?? 0) } } }
    public var fieldNames: [String] { ["rows"] }
    public func field(_ name: String) -> Value? { name == "rows" ? .number(Double(rows.count)) : nil }
    public var partNames: [String] { [] }
    public func describePart(_ name: String) -> String? { nil }

    /// Appends a row; a column seen for the first time is added, empty in earlier rows.
    func append(_ row: [(column: String, value: Value)]) {
        for (column, _) in row where !columns.contains(column) {
            columns.append(column)
            for r in rows.indices { rows[r].append(nil) }
        }
        var values = [Value?](repeating: nil, count: columns.count)
        for (column, value) in row { values[columns.firstIndex(of: column)!] = value }
        rows.append(values)
    }

    /// The rows under the title `NAME: N row(s)`.
    func table(as name: String, width: Int) -> MimeBundle {
        var table = Table(title: "\(name): \(rows.count) row(s)", columns: columns.map { .init($0, .right) })
        for row in rows { table.append(row.map { $0.map(SessionTable.text) ?? "" }) }
        return table.bundle(width: width)
    }

    /// A value as a cell: numbers to 4 significant digits beyond whole ones.
    static func text(_ v: Value) -> String {
        switch v {
        case .number(let x): return x == x.rounded() && abs(x) < 1e15 ? NumberFormat.grouped(Int(x)) : NumberFormat.short(x, significant: 4)
        case .percent(let f): return NumberFormat.short(f * 100, significant: 4) + "%"
        default: return v.display
        }
    }

    /// RFC 4180 CSV: a header, then a row per record; numbers in full.
    var csv: String {
        func quoted(_ s: String) -> String {
            s.contains(where: { ",\"\n\r".contains($0) }) ? "\"" + s.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\"" : s
        }
        let lines = [columns.map(quoted)] + rows.map { $0.map { v -> String in
            switch v {
            case .number(let x)?: return x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x)
            case .percent(let f)?: return String(f)
            case let v?: return quoted(v.display)
            case nil: return ""
            }
        } }
        return lines.map { $0.joined(separator: ",") }.joined(separator: "\n") + "\n"
    }
}

extension Evaluator {
    /// `record NAME COL=EXPR …`: a row appended to the results table NAME
    /// (made on first use).
    func record(_ a: Request<RecordRequest>) throws(LoomError) {
        let name = a.table.text
        let table = session[name] == nil ? SessionTable() : try object(a.table.expr, SessionTable.self)
        let pairs = a.values
        var row: [(column: String, value: Value)] = []
        for pair in pairs {
            guard case .binary("=", let column, let expr) = pair.kind, let word = column.name?.first else { continue }
            if row.contains(where: { $0.column == word }) {
                throw LoomError(.value, "column `\(word)` is given twice", at: pair.range)
            }
            row.append((word, try evaluate(expr)))
        }
        table.append(row)
        if session[name] == nil { session.define(name, .object(table)) }
    }

    /// `show table NAME [x COL y COL [by COL]]`: the rows, and a line plot of
    /// one column against another (a series per value of `by`).
    func showTable(_ a: Request<TableRequest>) throws(LoomError) -> MimeBundle {
        let name = a.table.text
        let table = try object(a.table.expr, SessionTable.self)
        let rows = table.table(as: name, width: session.width)
        guard a.x != nil || a.y != nil else { return rows }
        func column(_ option: KeyPath<TableRequest, Name?>) throws(LoomError) -> Int {
            let word = try a.required(option).text
            guard let index = table.columns.firstIndex(of: word) else {
                throw LoomError(.name, "`\(name)` has no column `\(word)`; its columns: \(table.columns.joined(separator: ", "))",
                                at: a.range(of: option), suggestion: closest(to: word, in: table.columns))
            }
            return index
        }
        let x = try column(\.x), y = try column(\.y)
        let by = a.by != nil ? try column(\.by) : nil
        var groups: [(label: String, rows: [[Value?]])] = []
        for row in table.rows {
            let label = by.flatMap { row[$0] }.map(SessionTable.text) ?? table.columns[y]
            if let g = groups.firstIndex(where: { $0.label == label }) { groups[g].rows.append(row) } else { groups.append((label, [row])) }
        }
        var series: [(name: String, values: [Double])] = []
        for g in groups {
            var values: [Double] = []
            for row in g.rows {
                // A row without this column leaves a gap.
                guard let cell = row[y] else { values.append(.nan); continue }
                guard let v = cell.numeric else {
                    throw LoomError(.type, "column `\(table.columns[y])` holds a value that is not a number", at: a.range(of: \.y))
                }
                values.append(v)
            }
            series.append((g.label, values))
        }
        let first = groups.first?.rows ?? []
        let ends = first.isEmpty ? nil : (first.first![x].map(SessionTable.text) ?? "", first.last![x].map(SessionTable.text) ?? "")
        show(rows)
        return plot(LinePlot(series, title: "\(table.columns[y]) against \(table.columns[x]) (one point per row, evenly spaced)",
                             xLabel: table.columns[x], height: 10, xEnds: ends))
    }
}
