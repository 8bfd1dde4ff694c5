import LoomCore
#if canImport(Glibc)
import Glibc
#endif

/// The engine's one source of randomness (xoshiro256**, seeded through
/// SplitMix64): initialisation, shuffling, dropout and synthetic data all draw
/// from it, so the same seed gives the same numbers.
public struct RandomGenerator: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var mix = SplitMix64(seed: seed)
        s = (mix.next(), mix.next(), mix.next(), mix.next())
    }

    /// The generator's four words: where its stream is, to hand to another
    /// process that must go on drawing the same numbers.
    public var state: [UInt64] {
        get { [s.0, s.1, s.2, s.3] }
        set { s = (newValue[0], newValue[1], newValue[2], newValue[3]) }
    }

    public mutating func next() -> UInt64 {
        let result = rotate(s.1 &* 5, 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = rotate(s.3, 45)
        return result
    }

    private func rotate(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// A uniform Float in [0, 1).
    public mutating func nextUnitFloat() -> Float {
        Float(next() >> 40) * (1.0 / Float(1 << 24))
    }

    /// A uniform Double in [0, 1).
    public mutating func nextUnitDouble() -> Double {
        Double(next() >> 11) * (1.0 / Double(UInt64(1) << 53))
    }

    /// A standard normal Float (Box–Muller).
    public mutating func nextNormalFloat() -> Float {
        let u = 1 - nextUnitDouble(), v = nextUnitDouble()
        return Float((-2 * log(u)).squareRoot() * cos(2 * Double.pi * v))
    }
}
