/// A row-major grid of numbers: what heatmaps, image grids and spy plots draw.
public struct Matrix: Sendable, Equatable {
    public let rows: Int
    public let columns: Int
    public var values: [Double]

    public init(rows: Int, columns: Int, values: [Double]) {
        precondition(values.count == rows * columns, "Matrix: \(values.count) values for \(rows)x\(columns)")
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    public init(_ rows: [[Double]]) {
        let columns = rows.first?.count ?? 0
        self.init(rows: rows.count, columns: columns, values: rows.flatMap { r in
            (0..<columns).map { $0 < r.count ? r[$0] : 0 }
        })
    }

    public subscript(r: Int, c: Int) -> Double { values[r * columns + c] }

    public var isEmpty: Bool { rows == 0 || columns == 0 }

    /// The finite values' range, or nil when there are none.
    public var finiteRange: (min: Double, max: Double)? {
        Scale.range(values)
    }

    /// Averages blocks of `factor`×`factor` cells (NaN-aware, keeping ±inf),
    /// so a large matrix fits the page.
    public func downsampled(by factor: Int) -> Matrix {
        guard factor > 1 else { return self }
        let r = (rows + factor - 1) / factor, c = (columns + factor - 1) / factor
        var out = [Double](repeating: 0, count: r * c)
        for i in 0..<r {
            for j in 0..<c {
                var sum = 0.0, n = 0
                var special: Double?
                for y in (i * factor)..<min(rows, (i + 1) * factor) {
                    for x in (j * factor)..<min(columns, (j + 1) * factor) {
                        let v = self[y, x]
                        if v.isFinite { sum += v; n += 1 } else if !v.isNaN { special = v }
                    }
                }
                out[i * c + j] = special ?? (n > 0 ? sum / Double(n) : .nan)
            }
        }
        return Matrix(rows: r, columns: c, values: out)
    }

    /// Whether any cell of each block is nonzero (for spy plots): 1 or 0.
    public func occupancy(by factor: Int) -> Matrix {
        guard factor > 1 else { return Matrix(rows: rows, columns: columns, values: values.map { $0 != 0 ? 1 : 0 }) }
        let r = (rows + factor - 1) / factor, c = (columns + factor - 1) / factor
        var out = [Double](repeating: 0, count: r * c)
        for y in 0..<rows {
            for x in 0..<columns where self[y, x] != 0 { out[(y / factor) * c + x / factor] = 1 }
        }
        return Matrix(rows: r, columns: c, values: out)
    }
}

/// Value ranges and tick labels shared by every plot.
public enum Scale {
    /// Minimum and maximum of the finite values, or nil.
    public static func range(_ values: [Double]) -> (min: Double, max: Double)? {
        var lo = Double.infinity, hi = -Double.infinity
        for v in values where v.isFinite {
            lo = min(lo, v)
            hi = max(hi, v)
        }
        return lo <= hi ? (lo, hi) : nil
    }

    /// A short label for an axis or legend value.
    public static func label(_ x: Double) -> String { NumberFormat.short(x, significant: 3) }

    /// The smallest factor that brings `size` down to `limit`.
    public static func factor(_ size: Int, toFit limit: Int) -> Int {
        guard limit > 0, size > limit else { return 1 }
        return (size + limit - 1) / limit
    }
}
