/// Element-wise loops over raw buffers, written eight lanes at a time with
/// SIMD8 so they vectorise whatever the optimiser decides about aliasing and
/// conditional loads; a scalar tail handles what is left.
public enum Vector {
    public typealias Lanes = SIMD8<Float>

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> Lanes {
        UnsafeRawPointer(p).loadUnaligned(as: Lanes.self)
    }

    @inline(__always)
    static func store(_ v: Lanes, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: Lanes.self)
    }

    /// Where whole vectors start so that they cover `count` values: 0, 8,
    /// 16, … and, when `count` is not a multiple of 8, `count − 8` last,
    /// overlapping the vector before — for loops that write nothing they
    /// read, where a value computed twice comes out the same: no scalar
    /// tail. Empty below 8 values (the caller takes one short vector).
    struct Covering: Sequence, IteratorProtocol {
        let count: Int
        private var position = 0

        init(_ count: Int) { self.count = count }

        mutating func next() -> Int? {
            guard count >= 8, position < count else { return nil }
            defer { position += 8 }
            return Swift.min(position, count - 8)
        }
    }

    /// The `lanes` values at `p` (all eight, or the first few and zeros).
    @inline(__always)
    static func load(_ p: UnsafePointer<Float>, lanes: Int) -> Lanes {
        if lanes >= 8 { return load(p) }
        var v = Lanes()
        for i in 0..<lanes { v[i] = p[i] }
        return v
    }

    /// Stores the first `lanes` lanes of `v` (all eight, or fewer).
    @inline(__always)
    static func store(_ v: Lanes, _ p: UnsafeMutablePointer<Float>, lanes: Int) {
        if lanes >= 8 { return store(v, p) }
        for i in 0..<lanes { p[i] = v[i] }
    }

    /// `to[i] = max(from[i], 0)`; NaN becomes 0.
    public static func relu(_ from: UnsafePointer<Float>, into to: UnsafeMutablePointer<Float>, count: Int) {
        let zero = Lanes(repeating: 0)
        var i = 0
        while i + 8 <= count {
            let x = load(from + i)
            store(zero.replacing(with: x, where: x .> zero), to + i)
            i += 8
        }
        while i < count { to[i] = from[i] > 0 ? from[i] : 0; i += 1 }
    }

    /// `to[i] = output[i] > 0 ? gradient[i] : 0`: relu's backward from its output.
    public static func reluGradient(_ gradient: UnsafePointer<Float>, output: UnsafePointer<Float>,
                                    into to: UnsafeMutablePointer<Float>, count: Int) {
        let zero = Lanes(repeating: 0)
        var i = 0
        while i + 8 <= count {
            store(zero.replacing(with: load(gradient + i), where: load(output + i) .> zero), to + i)
            i += 8
        }
        while i < count { to[i] = output[i] > 0 ? gradient[i] : 0; i += 1 }
    }

    /// `to[i] = from[i]`, inline: for the short runs (a kernel row, a bias)
    /// where calling memmove costs more than the copy.
    @inline(__always)
    public static func copy(_ from: UnsafePointer<Float>, into to: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            store(load(from + i), to + i)
            i += 8
        }
        while i < count { to[i] = from[i]; i += 1 }
    }

    /// `to[i] = mask[i] != 0 ? to[i] : 0`: a mask applied without branches
    /// (a select, not a product, so masked values are +0, never −0 or NaN).
    public static func keep(where mask: UnsafePointer<Float>, in to: UnsafeMutablePointer<Float>, count: Int) {
        let zero = Lanes(repeating: 0)
        var i = 0
        while i + 8 <= count {
            store(zero.replacing(with: load(to + i), where: load(mask + i) .!= zero), to + i)
            i += 8
        }
        while i < count { if mask[i] == 0 { to[i] = 0 }; i += 1 }
    }

    /// `to[i] += from[i]`.
    public static func add(_ from: UnsafePointer<Float>, into to: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            store(load(to + i) + load(from + i), to + i)
            i += 8
        }
        while i < count { to[i] += from[i]; i += 1 }
    }
}
