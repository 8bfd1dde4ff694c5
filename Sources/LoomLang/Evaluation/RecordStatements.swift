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
    /// Every cell's slot, empty ones too (a column added late widens every
    /// row), and what the values hold; kept as rows are added.
    public private(set) var bytes = 0
    static let slotBytes = MemoryLayout<Value?>.stride
    public var fieldNames: [String] { ["rows"] + columns }
    /// `rows`, or a column's values as a list (its empty cells left out): `runs.acc.mean`.
    public func field(_ name: String) -> Value? {
        if name == "rows" { return .number(Double(rows.count)) }
        guard let c = columns.firstIndex(of: name) else { return nil }
        return .list(ValueList(rows.compactMap { $0[c] }))
    }
    public var partNames: [String] { [] }
    public func describePart(_ name: String) -> String? { nil }

    /// What appending `row` adds to `bytes`: its values, a slot per column
    /// in the new row, and per new column its name and a slot in every earlier row.
    func growth(_ row: [(column: String, value: Value)]) -> Int {
        let added = row.filter { !columns.contains($0.column) }
        let slots = MemoryAccount.sum(MemoryAccount.product(rows.count, added.count), columns.count + added.count)
        return MemoryAccount.sum(MemoryAccount.product(slots, SessionTable.slotBytes), row.reduce(0) { $0 + $1.value.bytes },
                                 added.reduce(0) { $0 + 16 + $1.column.utf8.count })
    }

    /// Appends a row; a column seen for the first time is added, empty in earlier rows.
    func append(_ row: [(column: String, value: Value)]) {
        bytes += growth(row)
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
        let cells = columns.indices.map { c in SessionTable.texts(rows.map { $0[c] }) }
        for r in rows.indices { table.append(cells.map { $0[r] }) }
        return table.bundle(width: width)
    }

    /// A column's cells, its numbers (or its percentages) written by one
    /// rule (`NumberFormat.column`); a column of mixed kinds cell by cell.
    static func texts(_ column: [Value?]) -> [String] {
        let present = column.compactMap { $0 }
        let percentages = !present.isEmpty && present.allSatisfy { if case .percent = $0 { return true } else { return false } }
        let numbers = !present.isEmpty && present.allSatisfy { if case .number = $0 { return true } else { return false } }
        guard percentages || numbers else { return column.map { $0.map(text) ?? "" } }
        let written = NumberFormat.column(present.map { $0.numeric! * (percentages ? 100 : 1) })
        var next = written.makeIterator()
        return column.map { $0 == nil ? "" : next.next()! + (percentages ? "%" : "") }
    }

    /// A value as a cell alone: numbers to 4 significant digits beyond whole ones.
    static func text(_ v: Value) -> String {
        switch v {
        case .number(let x): return x == x.rounded() && abs(x) < 1e15 ? NumberFormat.grouped(Int(x)) : NumberFormat.short(x, significant: 4)
        case .percent(let f): return NumberFormat.short(f * 100, significant: 4) + "%"
        default: return v.display
        }
    }

    /// RFC 4180 CSV: a header, then a row per record; numbers in full.
    var csv: String {
        let quoted = SessionTable.csvField
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

extension SessionTable {
    /// A CSV field as RFC 4180 writes it: in quotes, quotes doubled, when it
    /// holds a comma, a quote, a CR or an LF. Read scalar by scalar: a CR LF
    /// pair, or a quote a combining mark follows, is one `Character` and
    /// would slip past a test of characters.
    static func csvField(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        var out = String.UnicodeScalarView()
        out.append("\"")
        for scalar in s.unicodeScalars {
            if scalar == "\"" { out.append("\"") }
            out.append(scalar)
        }
        out.append("\"")
        return String(out)
    }
}

extension Evaluator {
    /// `record NAME COL=EXPR …`: a row appended to the results table NAME
    /// (made on first use).
    func record(_ a: Request<RecordRequest>) throws(LoomError) {
        let name = a.table.text
        if session[name] == nil { try Parser.refuseWord(name, naming: "a results table", at: a.table.range) }
        let table = session[name] == nil ? SessionTable() : try object(a.table.expr, SessionTable.self)
        let pairs = a.values
        var row: [(column: String, value: Value)] = []
        for pair in pairs {
            guard case .column(let column, let expr) = pair.kind, let word = column.name?.first else { continue }
            if row.contains(where: { $0.column == word }) {
                throw LoomError(.value, "column `\(word)` is given twice", at: pair.range)
            }
            row.append((word, try evaluate(expr)))
        }
        try checkMemory(bytes: table.growth(row), what: "a row of `\(name)` (\(NumberFormat.grouped(table.rows.count)) rows of "
                        + "\(NumberFormat.grouped(table.columns.count)) columns)", at: a.range)
        if session.heldRows != nil {
            for (column, value) in row {
                switch value {
                case .number, .percent, .string: continue
                default: throw LoomError(.type, "a `parallel` loop records numbers, percentages and strings; column `\(column)` "
                                         + "holds a \(value.typeName)", at: a.range)
                }
            }
            session.heldRows?.append(HeldRow(table: name, values: row))
            return
        }
        table.append(row)
        if session[name] == nil { session.define(name, .object(table)) }
    }

    /// Appends a row a `parallel` loop held back, as `record` would have.
    func appendHeld(_ row: HeldRow, at range: SourceRange) throws(LoomError) {
        let table: SessionTable
        if case .object(let existing as SessionTable)? = session[row.table] { table = existing } else { table = SessionTable() }
        try checkMemory(bytes: table.growth(row.values), what: "a row of `\(row.table)`", at: range)
        table.append(row.values)
        if session[row.table] == nil { session.define(row.table, .object(table)) }
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
        // Groups in the order their labels first appear, found by label in one pass.
        var groups: [(label: String, rows: [[Value?]])] = []
        var groupOfLabel: [String: Int] = [:]
        for row in table.rows {
            let label = by.flatMap { row[$0] }.map(SessionTable.text) ?? table.columns[y]
            if let g = groupOfLabel[label] {
                groups[g].rows.append(row)
            } else {
                groupOfLabel[label] = groups.count
                groups.append((label, [row]))
            }
        }
        func number(_ cell: Value) throws(LoomError) -> Double {
            guard let v = cell.numeric else {
                throw LoomError(.type, "column `\(table.columns[y])` holds a value that is not a number", at: a.range(of: \.y))
            }
            return v
        }
        let yCells = table.rows.compactMap { $0[y] }
        let yPercent = !yCells.isEmpty && yCells.allSatisfy { if case .percent = $0 { return true } else { return false } }
        let yFormat = yPercent ? LinePlot.percent : Scale.label
        let xCells = table.rows.compactMap { $0[x] }
        if !xCells.isEmpty, xCells.allSatisfy({ $0.numeric != nil }) {
            show(rows)
            var points: [(label: String, points: [(x: Value, y: Double)])] = []
            for g in groups {
                var these: [(x: Value, y: Double)] = []
                for row in g.rows { if let xv = row[x], let yv = row[y] { these.append((xv, try number(yv))) } }
                points.append((g.label, these))
            }
            let runs = RunSummary(points, yPercent: yPercent)
            let xName = table.columns[x], yName = table.columns[y]
            if runs.repeated { show(runs.table(x: xName, y: yName, by: by.map { table.columns[$0] }).bundle(width: session.width)) }
            return plot(runs.plot(title: "\(yName) against \(xName)", xLabel: xName, yFormat: yFormat))
        }
        var series: [(name: String, values: [Double])] = []
        for g in groups {
            var values: [Double] = []
            // A row without this column leaves a gap.
            for row in g.rows {
                if let cell = row[y] { values.append(try number(cell)) } else { values.append(.nan) }
            }
            series.append((g.label, values))
        }
        let first = groups.first?.rows ?? []
        let ends = first.isEmpty ? nil : (first.first![x].map(SessionTable.text) ?? "", first.last![x].map(SessionTable.text) ?? "")
        show(rows)
        return plot(LinePlot(series, title: "\(table.columns[y]) against \(table.columns[x]) (one point per row, evenly spaced)",
                             xLabel: table.columns[x], height: 10, xEnds: ends, yFormat: yFormat))
    }
}
