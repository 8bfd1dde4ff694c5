/// Class labels as files hold them: whole numbers from 0 below `maximum`.
/// Every loader reads its labels through here, so NaN, infinities, fractions
/// and absurd class numbers are refused with the sample they sit on, before a
/// data set with a billion classes can ask for memory.
public enum ClassLabels {
    /// One more than the largest class number a data set may use.
    public static let maximum = 10_000

    /// `value` as a class number, or nil when it is not one.
    public static func classNumber(_ value: Float) -> Int? {
        guard value.isFinite, value >= 0, value < Float(maximum), value == value.rounded() else { return nil }
        return Int(value)
    }

    /// Why `text` is not a class label, for a message.
    public static func problem(_ text: String) -> String {
        "the label `\(text)` is not a class number (a whole number from 0 to \(maximum - 1))"
    }

    /// All of `values` as class numbers; the first that is not one is named
    /// with its position (counted from 1, as `item` says).
    public static func read(_ values: [Float], source: String, item: String = "label") throws(DataError) -> [Int] {
        var labels: [Int] = []
        labels.reserveCapacity(values.count)
        for (i, v) in values.enumerated() {
            guard let label = classNumber(v) else {
                throw DataError("\(source), \(item) \(i + 1): \(problem(NumberText.plain(v)))")
            }
            labels.append(label)
        }
        return labels
    }
}

/// Numbers in error messages, written as a person would read them.
enum NumberText {
    static func plain(_ v: Float) -> String {
        if v.isNaN { return "nan" }
        if v.isInfinite { return v < 0 ? "-inf" : "inf" }
        if v == v.rounded(), abs(v) < 1e7 { return String(Int64(v)) }
        return "\(v)"
    }
}
