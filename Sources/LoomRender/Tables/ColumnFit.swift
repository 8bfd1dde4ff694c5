/// How a table's columns fit a page without cutting a name or a number, in
/// the order a reader loses least: prose columns wrap, long headers go over
/// two lines, text cells wrap at their spaces; a table still too wide is
/// split into blocks of columns, each repeating the first (as pandas prints
/// a wide frame), and a block of one column too wide stays wider than the page.
struct ColumnFit {
    /// Some of the table's columns (the first of the table leading each) and their widths.
    struct Block: Equatable {
        var columns: [Int]
        var widths: [Int]
    }

    let blocks: [Block]

    init(_ table: Table, width: Int) {
        let measures = table.columns.indices.map { ColumnMeasure(table, $0) }
        let all = Array(measures.indices)
        let whole = ColumnFit.widths(all.map { measures[$0] }, width: width)
        guard all.count > 1, ColumnFit.span(whole) > width else {
            blocks = [Block(columns: all, widths: whole)]
            return
        }
        // Blocks as full as their columns' narrowest widths allow; each then laid out on its own.
        var groups: [[Int]] = [], current = [0]
        for i in all.dropFirst() {
            if current.count > 1, ColumnFit.span((current + [i]).map { measures[$0].floor }) > width {
                groups.append(current)
                current = [0]
            }
            current.append(i)
        }
        groups.append(current)
        blocks = groups.map { Block(columns: $0, widths: ColumnFit.widths($0.map { measures[$0] }, width: width)) }
    }

    /// Columns of `widths` with their borders and padding: 3 columns per cell plus one.
    static func span(_ widths: [Int]) -> Int { widths.reduce(3 * widths.count + 1, +) }

    /// The widths of `columns` side by side within `width`, each narrowed no
    /// further than it needs and never below its floor.
    static func widths(_ columns: [ColumnMeasure], width: Int) -> [Int] {
        var widths = columns.map(\.natural)
        let budget = width - span(widths.map { _ in 0 })
        // Prose wraps first: it was written to.
        narrow(&widths, toward: columns.map { $0.wraps ? $0.floor : $0.natural }, within: budget)
        // Then headers longer than their cells go over two lines, the greatest saving first.
        let saving = columns.map { $0.wraps ? 0 : $0.natural - $0.headerOverTwoLines }
        let byGain = columns.indices.filter { saving[$0] > 0 }.sorted { saving[$0] != saving[$1] ? saving[$0] > saving[$1] : $0 < $1 }
        for i in byGain where widths.reduce(0, +) > budget { widths[i] = columns[i].headerOverTwoLines }
        // Then text cells wrap at their spaces.
        narrow(&widths, toward: columns.map(\.floor), within: budget)
        return widths
    }

    /// Narrows the widest columns first (columns of equal width in turn, the
    /// first of them first) toward `floors` until the widths sum to `budget`
    /// or every column is at its floor; a run of equal steps at once, so a
    /// cell of 4 MB is not narrowed four million times.
    static func narrow(_ widths: inout [Int], toward floors: [Int], within budget: Int) {
        var excess = widths.reduce(0, +) - budget
        while excess > 0 {
            let open = widths.indices.filter { widths[$0] > floors[$0] }
            guard let top = open.map({ widths[$0] }).max() else { return }
            let tied = open.filter { widths[$0] == top }
            let below = open.filter { widths[$0] < top }.map { widths[$0] }.max() ?? 0
            let next = max(below, tied.map { floors[$0] }.max()!)
            let rounds = min(top - next, excess / tied.count)
            if rounds > 0 {
                for i in tied { widths[i] -= rounds }
                excess -= rounds * tied.count
            } else {
                for i in tied.prefix(excess) { widths[i] -= 1 }
                excess = 0
            }
        }
    }
}

/// A column's widths as its cells need them: whole, and at the narrowest
/// that loses nothing.
struct ColumnMeasure {
    /// Its widest cell, the header included.
    let natural: Int
    /// Its widest cell below the header (rows and footer).
    let cells: Int
    /// The header at its narrowest over two lines (split at a space).
    let header: Int
    let wraps: Bool
    /// As wide as its cells, its header over two lines.
    var headerOverTwoLines: Int { max(cells, header) }
    /// As narrow as it goes: prose to 12 columns (words cut where longer),
    /// text to its longest word, numbers to their widest.
    let floor: Int

    init(_ table: Table, _ i: Int) {
        let column = table.columns[i]
        let body = table.rows + (table.footer.map { [$0] } ?? [])
        cells = body.map { TextWidth.of(table.cell($0, i)) }.max() ?? 0
        header = TextWidth.narrowestTwoLines(column.title)
        natural = max(cells, TextWidth.of(column.title))
        wraps = column.wraps
        if wraps {
            floor = min(natural, 12)
        } else if column.alignment == .left {
            floor = max(header, body.map { TextWidth.longestWord(table.cell($0, i)) }.max() ?? 0)
        } else {
            floor = max(header, cells)
        }
    }
}
