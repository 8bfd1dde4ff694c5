/// Shapes as Loom writes and checks them.
public enum Shape {
    /// `28x28x1`.
    public static func text(_ shape: [Int]) -> String { shape.map(String.init).joined(separator: "x") }

    /// The number of values a shape holds, or nil when a dimension is
    /// negative or the product overflows: what hostile file headers and huge
    /// `shape` options must be checked with before anything is allocated.
    public static func count(_ dims: [Int]) -> Int? {
        var p = 1
        for d in dims {
            guard d >= 0 else { return nil }
            let (r, overflow) = p.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            p = r
        }
        return p
    }
}
