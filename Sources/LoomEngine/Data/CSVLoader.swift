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
        // Lines and cells are walked in place, never collected: a 200 MB file
        // of one line holds 50 million cells, and a range per cell would take
        // four times the file. Blank lines at the end are not rows.
        var end = text.count
        while end > 0, [space, tab, newline, carriageReturn].contains(text[end - 1]) { end -= 1 }
        var lines = Lines(text: text, end: end)
        guard end > 0, let firstLine = lines.next() else { throw DataError("\(source) is empty") }
        let secondLine = lines.next()
        var firstRow = 1
        // A header: a first row with a feature cell that is there but not a
        // number — or whose label is a word where the next row's is a number.
        let labelIndex = { (line: Range<Int>) -> Int? in
            label == .none ? nil : (label == .first ? 0 : cellCount(text, line) - 1)
        }
        let headLabel = labelIndex(firstLine)
        let isText = { (cell: Range<Int>) in !trimmed(text, cell).isEmpty && number(text, cell) == nil }
        var featureText = false, labelText = false
        for (i, cell) in Cells(text, firstLine).enumerated() {
            if i == headLabel { labelText = isText(cell) } else if !featureText && isText(cell) { featureText = true }
        }
        let nextLabelIsNumber = secondLine.map { next in
            labelIndex(next).flatMap { i in Cells(text, next).dropFirst(i).first { _ in true } }.map { !isText($0) } ?? false
        } ?? false
        var dataLines = Lines(text: text, end: end)
        if featureText || (labelText && (secondLine == nil || nextLabelIsNumber)) {
            _ = dataLines.next()  // a header
            firstRow = 2
            guard secondLine != nil else { throw DataError("\(source) has a header but no rows") }
        }
        let rowCount = Lines(text: text, end: end).reduce(0) { n, _ in n + 1 } - (firstRow - 1)
        var values: [Float] = []
        var labels: [Int] = []
        // Labels written as words (`setosa`): their texts, numbered once all are read.
        var labelTexts: [String] = []
        labels.reserveCapacity(label == .none ? 0 : rowCount)
        var width: Int?
        for (n, line) in dataLines.enumerated() {
            if n % 4096 == 4095, shouldStop() { throw .interrupted }
            let row = n + firstRow
            let count = cellCount(text, line)
            if let width, count != width {
                throw DataError("\(source), row \(row): \(count) columns where the first row has \(width)")
            }
            if width == nil { values.reserveCapacity(rowCount * count) }
            width = count
            let labelIndex: Int? = label == .none ? nil : (label == .first ? 0 : count - 1)
            for (c, cell) in Cells(text, line).enumerated() {
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

    /// The lines of `text[..<end]`, each without its end ("\n", "\r\n" or "\r"), one at a time.
    struct Lines: Sequence, IteratorProtocol {
        let text: UnsafeBufferPointer<UInt8>
        let end: Int
        var start = 0
        var finished = false

        init(text: UnsafeBufferPointer<UInt8>, end: Int) {
            self.text = text
            self.end = end
            finished = end == 0
        }

        mutating func next() -> Range<Int>? {
            guard !finished else { return nil }
            var i = start
            while i < end, text[i] != newline, text[i] != carriageReturn { i += 1 }
            let line = start..<i
            if i >= end {
                finished = true
            } else {
                if text[i] == carriageReturn, i + 1 < end, text[i + 1] == newline { i += 1 }
                start = i + 1
            }
            return line
        }
    }

    /// The comma-separated cells of a line, empty ones included, one at a time.
    struct Cells: Sequence, IteratorProtocol {
        let text: UnsafeBufferPointer<UInt8>
        let line: Range<Int>
        var start: Int
        var finished = false

        init(_ text: UnsafeBufferPointer<UInt8>, _ line: Range<Int>) {
            self.text = text
            self.line = line
            start = line.lowerBound
        }

        mutating func next() -> Range<Int>? {
            guard !finished else { return nil }
            var i = start
            while i < line.upperBound, text[i] != comma { i += 1 }
            let cell = start..<i
            if i >= line.upperBound { finished = true } else { start = i + 1 }
            return cell
        }
    }

    static func cellCount(_ text: UnsafeBufferPointer<UInt8>, _ line: Range<Int>) -> Int {
        var n = 1
        for i in line where text[i] == comma { n += 1 }
        return n
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
