/// Samples from CSV text, one sample a row. A first row that is not numeric
/// is a header. The label column (last, first or none) holds whole numbers
/// from 0; the other values are the sample, multiplied by `scale` and
/// reshaped to `shape` when given.
public enum CSVLoader {
    public enum LabelColumn: String, Sendable { case last, first, none }

    public static func load(_ text: String, label: LabelColumn = .last, shape: [Int]? = nil, scale: Float = 1,
                            source: String = "the CSV file") throws(DataError) -> Dataset {
        // "\r\n" is one Character in Swift, so split on each kind of line end.
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
        while let last = lines.last, last.allSatisfy({ $0 == " " }) { lines.removeLast() }
        guard !lines.isEmpty else { throw DataError("\(source) is empty") }
        var firstRow = 1
        if lines[0].split(separator: ",").contains(where: { Float($0.trimmingSpaces()) == nil }) {
            lines.removeFirst()  // a header
            firstRow = 2
        }
        guard !lines.isEmpty else { throw DataError("\(source) has a header but no rows") }
        var values: [Float] = []
        var labels: [Int] = []
        var width: Int?
        for (n, line) in lines.enumerated() {
            let row = n + firstRow
            let cells = line.split(separator: ",", omittingEmptySubsequences: false)
            if let width, cells.count != width {
                throw DataError("\(source), row \(row): \(cells.count) columns where the first row has \(width)")
            }
            width = cells.count
            let labelIndex: Int? = label == .none ? nil : (label == .first ? 0 : cells.count - 1)
            for (c, cell) in cells.enumerated() {
                let text = cell.trimmingSpaces()
                guard let v = Float(text), v.isFinite else {
                    throw DataError("\(source), row \(row), column \(c + 1): `\(text)` is not a number")
                }
                if c == labelIndex {
                    guard v >= 0, v == v.rounded(), v < 1_000_000 else {
                        throw DataError("\(source), row \(row), column \(c + 1): the label `\(text)` is not a class number (0, 1, 2, …)")
                    }
                    labels.append(Int(v))
                } else {
                    values.append(v * scale)
                }
            }
            if labelIndex == nil { labels.append(0) }
        }
        let features = (width ?? 0) - (label == .none ? 0 : 1)
        guard features > 0 else { throw DataError("\(source) has no feature columns besides the label") }
        let sampleShape = shape ?? [features]
        guard sampleShape.reduce(1, *) == features else {
            throw DataError("\(source): rows have \(features) values, which do not make a \(Shape.text(sampleShape)) sample "
                            + "(\(sampleShape.reduce(1, *)) values)")
        }
        return Dataset(inputs: Tensor(shape: [labels.count] + sampleShape, storage: values), labels: labels,
                       classes: label == .none ? 1 : nil)
    }
}

extension Substring {
    func trimmingSpaces() -> Substring {
        var s = self
        while s.first == " " || s.first == "\t" { s.removeFirst() }
        while s.last == " " || s.last == "\t" { s.removeLast() }
        return s
    }
}
