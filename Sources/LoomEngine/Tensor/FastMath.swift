/// exp, the sigmoid and tanh without calls into libm, branch-free so loops
/// over them vectorise: the recurrent layers spend most of a step in them
/// (libm's `tanhf` alone took two thirds of an LSTM's training time).
/// Within 1, 2.5 and 3 units in the last place of libm's exp (on
/// [−87.33, 88]), sigmoid and tanh (where |tanh x| ≥ 0.5): FastMathTests.
public enum FastMath {
    /// eˣ, as `exp(_: Lanes)` computes it (one lane of it, so it gives the
    /// bits the loops below give).
    @inline(__always)
    public static func exp(_ x: Float) -> Float { exp(Lanes(repeating: x))[0] }

    @inline(__always)
    public static func sigmoid(_ x: Float) -> Float { 1 / (1 + exp(-x)) }

    /// tanh x = 1 − 2 / (e²ˣ + 1): exact at the ends (±1), within 1.5e-7 absolute near 0.
    @inline(__always)
    public static func tanh(_ x: Float) -> Float { 1 - 2 / (exp(2 * x) + 1) }
}

extension FastMath {
    /// Sixteen lanes: one AVX-512 register, two AVX2 ones. The gate loop
    /// (`logistic`, 16×192 values) took 1.80 µs against 2.34 with eight lanes
    /// on an AVX-512 Xeon; for generic x86-64, 3.95 against 5.85.
    typealias Lanes = SIMD16<Float>

    /// eˣ, sixteen lanes at a time: Cephes's `expf`. x = n·ln 2 + r with
    /// |r| ≤ ln 2 / 2, eʳ by a degree-7 polynomial, 2ⁿ built in the exponent
    /// bits. n comes from adding 1.5·2²³, which rounds x·log₂e to a whole
    /// number in the low mantissa bits: no float-to-integer conversion, so it
    /// vectorises.
    @inline(__always)
    static func exp(_ x: Lanes) -> Lanes {
        // Masked selects, not `clamped`: its generic min and max are not inlined.
        let low = Lanes(repeating: -87.33), high = Lanes(repeating: 88.0)
        let x = x.replacing(with: low, where: x .< low).replacing(with: high, where: x .> high)
        let shifted = x * 1.442_695_04 + 12_582_912
        let n = shifted - 12_582_912
        let r = (x - n * 0.693_359_375) + n * 2.121_944_4e-4
        var p = Lanes(repeating: 1.987_569_15e-4)
        p = p * r + 1.398_199_950_7e-3
        p = p * r + 8.333_451_907_3e-3
        p = p * r + 4.166_579_589_4e-2
        p = p * r + 1.666_666_545_9e-1
        p = p * r + 5.000_000_120_1e-1
        let e = p * r * r + r + 1
        let bits = (unsafeBitCast(shifted, to: SIMD16<UInt32>.self) &- 0x4B40_0000 &+ 127) &<< 23
        return e * unsafeBitCast(bits, to: Lanes.self)
    }

    /// The `lanes` values at `p` (all sixteen, or the first few and zeros),
    /// as two halves: a short last vector of 8 to 15 values is one whole
    /// eight-lane load and a short one.
    @inline(__always)
    static func load(_ p: UnsafePointer<Float>, lanes: Int) -> Lanes {
        if lanes >= 16 { return UnsafeRawPointer(p).loadUnaligned(as: Lanes.self) }
        if lanes >= 8 { return Lanes(lowHalf: Vector.load(p), highHalf: Vector.load(p + 8, lanes: lanes - 8)) }
        return Lanes(lowHalf: Vector.load(p, lanes: lanes), highHalf: Vector.Lanes())
    }

    /// Stores the first `lanes` lanes of `v` (all sixteen, or fewer).
    @inline(__always)
    static func store(_ v: Lanes, _ p: UnsafeMutablePointer<Float>, lanes: Int) {
        if lanes >= 16 { return UnsafeMutableRawPointer(p).storeBytes(of: v, as: Lanes.self) }
        if lanes >= 8 {
            Vector.store(v.lowHalf, p)
            return Vector.store(v.highHalf, p + 8, lanes: lanes - 8)
        }
        Vector.store(v.lowHalf, p, lanes: lanes)
    }

    // The loops below end in one short vector, not a scalar tail: the tail
    // of a 50-unit gate was two whole exps for two values.

    /// `x[j] = d[j] + c[j] / (1 + e^(s[j]·x[j]))` in place for `rows` rows of
    /// `width` values, the coefficients `[s, c, d]` (3 × width) the same for
    /// every row. (s, c, d) = (−1, 1, 0) is `sigmoid` and (2, −2, 1) is
    /// `tanh`, bit for bit (negation, and a + (−b) for a − b, are exact), so
    /// one loop activates an LSTM step's gates, each with its own function,
    /// with no short tail per gate.
    public static func logistic(_ x: UnsafeMutablePointer<Float>, rows: Int, width: Int, coefficients: UnsafePointer<Float>) {
        let scale = coefficients, numerator = coefficients + width, offset = coefficients + 2 * width
        for r in 0..<rows {
            let row = x + r * width
            @inline(__always) func values(from j: Int, lanes k: Int) {
                let e = exp(load(scale + j, lanes: k) * load(row + j, lanes: k))
                store(load(offset + j, lanes: k) + load(numerator + j, lanes: k) / (1 + e), row + j, lanes: k)
            }
            var j = 0
            while j + 16 <= width { values(from: j, lanes: 16); j += 16 }
            if j < width { values(from: j, lanes: width - j) }
        }
    }

    /// `x[i] = σ(x[i])` in place.
    public static func sigmoid(_ x: UnsafeMutablePointer<Float>, count: Int) { sigmoid(x, into: x, count: count) }

    /// `y[i] = σ(x[i])` (`y` may be `x`).
    public static func sigmoid(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        @inline(__always) func values(from i: Int, lanes k: Int) {
            store(1 / (1 + exp(-load(x + i, lanes: k))), y + i, lanes: k)
        }
        var i = 0
        while i + 16 <= count { values(from: i, lanes: 16); i += 16 }
        if i < count { values(from: i, lanes: count - i) }
    }

    /// `x[i] = tanh(x[i])` in place.
    public static func tanh(_ x: UnsafeMutablePointer<Float>, count: Int) { tanh(x, into: x, count: count) }

    /// `y[i] = tanh(x[i])` (`y` may be `x`).
    public static func tanh(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        @inline(__always) func values(from i: Int, lanes k: Int) {
            store(1 - 2 / (exp(2 * load(x + i, lanes: k)) + 1), y + i, lanes: k)
        }
        var i = 0
        while i + 16 <= count { values(from: i, lanes: 16); i += 16 }
        if i < count { values(from: i, lanes: count - i) }
    }
}
