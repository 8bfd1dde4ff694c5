/// Numbers as tables show them.
public enum NumberFormat {
    /// An integer with thousands separators: `1,234,567`.
    public static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }

    /// A number in at most `significant` digits, as a person writes it:
    /// `3`, `0.25`, `1e-05`; NaN and infinities by name.
    public static func short(_ x: Double, significant: Int = 6) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x < 0 ? "-inf" : "inf" }
        if x == x.rounded(), abs(x) < 1e15 { return String(Int(x)) }
        let magnitude = abs(x)
        if magnitude >= 1e-4 && magnitude < 1e15 {
            let decimals = max(0, significant - 1 - Int(magnitude.log10Floor))
            return trimZeros(fixed(x, decimals: decimals))
        }
        return scientific(x, significant: significant)
    }

    /// `x` with exactly `decimals` digits after the point.
    public static func fixed(_ x: Double, decimals: Int) -> String {
        if !x.isFinite { return short(x) }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (abs(x) * scale).rounded()
        if scaled >= 9.007e15 { return scientific(x, significant: 15) }
        let whole = Int(scaled / scale)
        let fraction = Int(scaled - Double(whole) * scale)
        let sign = (x < 0 && scaled != 0) ? "-" : ""
        guard decimals > 0 else { return sign + String(whole) }
        let f = String(fraction)
        return sign + String(whole) + "." + String(repeating: "0", count: decimals - f.count) + f
    }

    /// A column of numbers written by one rule, so they line up: as many
    /// decimals as `significant` digits of the largest give (`9.75`, `98.05`,
    /// not `9.749`, `98.05`), no more than some value needs; whole numbers
    /// grouped; numbers too large or small for decimals each in `short`.
    public static func column(_ xs: [Double], significant: Int = 4) -> [String] {
        let finite = xs.filter(\.isFinite)
        let largest = finite.map(abs).max() ?? 0
        if finite.allSatisfy({ $0 == $0.rounded() && abs($0) < 1e15 }) {
            return xs.map { $0.isFinite ? grouped(Int($0)) : short($0) }
        }
        guard largest >= 1e-4, largest < 1e15 else { return xs.map { short($0, significant: significant) } }
        let most = max(0, significant - 1 - Int(largest.log10Floor))
        let needed = finite.map { x in (0...most).first { fixed(x, decimals: $0) == trimZeros(fixed(x, decimals: most)) } ?? most }
        let decimals = needed.max() ?? 0
        return xs.map { $0.isFinite ? fixed($0, decimals: decimals) : short($0) }
    }

    /// A fraction as a percentage: `0.973` → `97.3%`.
    /// A size in binary units: `512 B`, `3.4 KiB`, `120 MiB`, `1.5 GiB`.
    public static func bytes(_ n: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(n), unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return (unit == 0 ? String(n) : short(value, significant: value < 100 ? 2 : 3)) + " " + units[unit]
    }

    public static func percent(_ fraction: Double, decimals: Int = 1) -> String {
        fraction.isFinite ? fixed(fraction * 100, decimals: decimals) + "%" : short(fraction)
    }

    static func scientific(_ x: Double, significant: Int) -> String {
        var exponent = Int(abs(x).log10Floor)
        var mantissa = x
        // 10^324 overflows to infinity: a subnormal (down to 5e-324) is
        // scaled by 10^308 and then by the rest, each factor finite.
        var p = 1.0, rest = 1.0
        for _ in 0..<min(abs(exponent), 308) { p *= 10 }
        for _ in 308..<max(308, abs(exponent)) { rest *= 10 }
        mantissa = exponent >= 0 ? x / p : x * p * rest
        if abs(mantissa) >= 10 { mantissa /= 10; exponent += 1 }
        var m = fixed(mantissa, decimals: max(0, significant - 1))
        // 9.9999… rounded up to 10: one digit before the point, the exponent one more.
        if m.hasPrefix("10") || m.hasPrefix("-10") {
            exponent += 1
            m = fixed(mantissa / 10, decimals: max(0, significant - 1))
        }
        m = trimZeros(m)
        let e = String(abs(exponent))
        return m + "e" + (exponent < 0 ? "-" : "+") + (e.count < 2 ? "0" + e : e)
    }

    static func trimZeros(_ s: String) -> String {
        guard s.contains(".") else { return s }
        var t = s
        while t.hasSuffix("0") { t.removeLast() }
        if t.hasSuffix(".") { t.removeLast() }
        return t
    }
}

extension Double {
    /// ⌊log10 |x|⌋ without Foundation.
    var log10Floor: Double {
        var m = abs(self)
        guard m > 0, m.isFinite else { return 0 }
        var e = 0.0
        while m >= 10 { m /= 10; e += 1 }
        while m < 1 { m *= 10; e -= 1 }
        return e
    }
}
