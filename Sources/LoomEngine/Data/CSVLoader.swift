/// Samples from CSV text, one sample a row. A first row that is not numeric
/// is a header. The label column (last, first or none) holds whole numbers
/// from 0; the other values are the sample, multiplied by `scale` and
/// reshaped to `shape` when given.
public enum CSVLoader {
    public enum LabelColumn: String, Sendable, CaseIterable { case last, first, none }

    public static func load(_ text: String, label: LabelColumn = .last, shape: [Int]? = nil, scale: Float = 1,
                            source: String = "the CSV file", shouldStop: () -> Bool = { false }) throws(DataError) -> Dataset {
        try load(bytes: Array(text.utf8), label: label, shape: shape, scale: scale, source: source, shouldStop: shouldStop)
    }

    /// The same, from the file's bytes (UTF-8), read without building strings:
    /// whole numbers are parsed directly, anything else through `Float`'s parser.
    /// `shouldStop` is asked every 4,096 rows; when it says so, loading ends
    /// with `DataError.interrupted`.
    public static func load(bytes: [UInt8], label: LabelColumn = .last, shape: [Int]? = nil, scale: Float = 1,
                            source: String = "the CSV file", shouldStop: () -> Bool = { false }) throws(DataError) -> Dataset {
        let parsed: Result<Dataset, DataError> = bytes.withUnsafeBufferPointer { text in
            Result { () throws(DataError) in
                try parse(text, label: label, shape: shape, scale: scale, source: source, shouldStop: shouldStop)
            }
        }
        return try parsed.get()
    }

    private static func parse(_ text: UnsafeBufferPointer<UInt8>, label: LabelColumn, shape: [Int]?, scale: Float,
                              source: String, shouldStop: () -> Bool) throws(DataError) -> Dataset {
        var lines = lineRanges(text)
        while let last = lines.last, text[last].allSatisfy({ $0 == space }) { lines.removeLast() }
        guard !lines.isEmpty else { throw DataError("\(source) is empty") }
        var firstRow = 1
        // A header: a first row with a feature cell that is there but not a
        // number — or whose label is a word where the next row's is a number.
        let head = cellRanges(text, lines[0])
        let headLabel: Int? = label == .none ? nil : (label == .first ? 0 : head.count - 1)
        let isText = { (cell: Range<Int>) in !trimmed(text, cell).isEmpty && number(text, cell) == nil }
        let featureText = head.indices.contains { $0 != headLabel && isText(head[$0]) }
        let labelText = headLabel.map { isText(head[$0]) } ?? false
        let nextLabelIsNumber = lines.count > 1 && headLabel.map { i in
            let next = cellRanges(text, lines[1])
            return i < next.count && !isText(next[label == .first ? 0 : next.count - 1])
        } ?? false
        if featureText || (labelText && (lines.count == 1 || nextLabelIsNumber)) {
            lines.removeFirst()  // a header
            firstRow = 2
        }
        guard !lines.isEmpty else { throw DataError("\(source) has a header but no rows") }
        var values: [Float] = []
        var labels: [Int] = []
        // Labels written as words (`setosa`): their texts, numbered once all are read.
        var labelTexts: [String] = []
        labels.reserveCapacity(lines.count)
        var width: Int?
        var cells: [Range<Int>] = []
        for (n, line) in lines.enumerated() {
            if n % 4096 == 4095, shouldStop() { throw .interrupted }
            let row = n + firstRow
            cellRanges(text, line, into: &cells)
            if let width, cells.count != width {
                throw DataError("\(source), row \(row): \(cells.count) columns where the first row has \(width)")
            }
            if width == nil { values.reserveCapacity(lines.count * cells.count) }
            width = cells.count
            let labelIndex: Int? = label == .none ? nil : (label == .first ? 0 : cells.count - 1)
            for (c, cell) in cells.enumerated() {
                if c == labelIndex, !labelTexts.isEmpty || number(text, cell) == nil {
                    let name = string(text, trimmed(text, cell))
                    guard !name.isEmpty else { throw DataError("\(source), row \(row), column \(c + 1): the label is empty") }
                    labelTexts.append(name)
                    continue
                }
                guard let v = number(text, cell), v.isFinite else {
                    throw DataError("\(source), row \(row), column \(c + 1): `\(string(text, cell))` is not a number")
                }
                if c == labelIndex {
                    guard let classNumber = ClassLabels.classNumber(v) else {
                        throw DataError("\(source), row \(row), column \(c + 1): \(ClassLabels.problem(string(text, cell)))")
                    }
                    labels.append(classNumber)
                } else {
                    values.append(v * scale)
                }
            }
        }
        let features = (width ?? 0) - (label == .none ? 0 : 1)
        guard features > 0 else { throw DataError("\(source) has no feature columns besides the label") }
        let sampleShape = shape ?? [features]
        guard let sampleSize = Shape.count(sampleShape), sampleSize == features else {
            let size = Shape.count(sampleShape).map { "\($0) values" } ?? "more values than any file holds"
            throw DataError("\(source): rows have \(features) values, which do not make a \(Shape.text(sampleShape)) sample "
                            + "(\(size))")
        }
        let rows = values.count / features
        let inputs = Tensor(shape: [rows] + sampleShape, storage: values)
        if label == .none { return Dataset(inputs: inputs, targets: .none) }
        guard !labelTexts.isEmpty else { return Dataset(inputs: inputs, labels: labels) }
        // Words as class names, numbered in sorted order (as scikit-learn's
        // LabelEncoder does); rows read as numbers before the first word count as words too.
        let texts = labels.map(String.init) + labelTexts
        let names = Array(Set(texts)).sorted()
        guard names.count <= ClassLabels.maximum else { throw DataError("\(source): more than \(ClassLabels.maximum) classes") }
        let classOf = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        var data = Dataset(inputs: inputs, labels: texts.map { classOf[$0]! }, classes: names.count)
        data.classNames = names
        return data
    }

    private static let newline = UInt8(ascii: "\n"), carriageReturn = UInt8(ascii: "\r"), comma = UInt8(ascii: ",")
    private static let space = UInt8(ascii: " "), tab = UInt8(ascii: "\t")
    private static let minus = UInt8(ascii: "-"), plus = UInt8(ascii: "+"), zero = UInt8(ascii: "0"), nine = UInt8(ascii: "9")

    /// Each line's bytes, without its end ("\n", "\r\n" or "\r").
    static func lineRanges(_ text: UnsafeBufferPointer<UInt8>) -> [Range<Int>] {
        var lines: [Range<Int>] = []
        var start = 0, i = 0
        while i < text.count {
            let byte = text[i]
            if byte == newline || byte == carriageReturn {
                lines.append(start..<i)
                if byte == carriageReturn, i + 1 < text.count, text[i + 1] == newline { i += 1 }
                start = i + 1
            }
            i += 1
        }
        lines.append(start..<text.count)
        return lines
    }

    static func cellRanges(_ text: UnsafeBufferPointer<UInt8>, _ line: Range<Int>) -> [Range<Int>] {
        var cells: [Range<Int>] = []
        cellRanges(text, line, into: &cells)
        return cells
    }

    /// The comma-separated cells of `line`, empty ones included.
    static func cellRanges(_ text: UnsafeBufferPointer<UInt8>, _ line: Range<Int>, into cells: inout [Range<Int>]) {
        cells.removeAll(keepingCapacity: true)
        var start = line.lowerBound
        for i in line where text[i] == comma {
            cells.append(start..<i)
            start = i + 1
        }
        cells.append(start..<line.upperBound)
    }

    /// The cell without the spaces and tabs around it.
    static func trimmed(_ text: UnsafeBufferPointer<UInt8>, _ cell: Range<Int>) -> Range<Int> {
        var (start, end) = (cell.lowerBound, cell.upperBound)
        while start < end, text[start] == space || text[start] == tab { start += 1 }
        while end > start, text[end - 1] == space || text[end - 1] == tab { end -= 1 }
        return start..<end
    }

    static func string(_ text: UnsafeBufferPointer<UInt8>, _ cell: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: text[trimmed(text, cell)]), as: UTF8.self)
    }

    /// The cell's number, or nil when it is not one. Whole numbers of up to
    /// nine digits are read here (exactly, as `Float` would); anything else
    /// (decimals, exponents, `inf`, `nan`) goes through `Float`'s parser.
    static func number(_ text: UnsafeBufferPointer<UInt8>, _ cell: Range<Int>) -> Float? {
        let digits = trimmed(text, cell)
        var i = digits.lowerBound
        let negative = i < digits.upperBound && text[i] == minus
        if i < digits.upperBound, text[i] == minus || text[i] == plus { i += 1 }
        if i < digits.upperBound, digits.upperBound - i <= 9 {
            var whole = 0
            while i < digits.upperBound, text[i] >= zero, text[i] <= nine {
                whole = whole * 10 + Int(text[i] - zero)
                i += 1
            }
            if i == digits.upperBound { return negative ? -Float(whole) : Float(whole) }
        }
        return Float(string(text, cell))
    }
}
