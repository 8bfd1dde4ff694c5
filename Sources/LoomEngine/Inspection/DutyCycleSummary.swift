#if canImport(Glibc)
import Glibc
#endif

/// A k-winners layer's health (Numenta): how often each unit has won in
/// training, and how evenly — the duty cycles' entropy against its maximum,
/// reached when every unit wins its k ÷ group share.
public struct DutyCycleSummary: Sendable, Equatable {
    /// Each unit's duty cycle: the share of samples (or locations) it won.
    public let dutyCycles: [Double]
    /// Σⱼ H(dⱼ) in bits, H(p) = −p·log₂p − (1−p)·log₂(1−p) the binary entropy.
    public let entropy: Double
    /// units · H(k ÷ group): the entropy when every unit wins its share.
    public let maximumEntropy: Double

    /// The summary of `dutyCycles` for `k` winners in each `group` values.
    public init(dutyCycles: [Float], k: Int, group: Int) {
        let duty = dutyCycles.map(Double.init)
        self.dutyCycles = duty
        entropy = duty.reduce(0) { $0 + DutyCycleSummary.bits($1) }
        maximumEntropy = Double(duty.count) * DutyCycleSummary.bits(Double(k) / Double(group))
    }

    /// entropy ÷ maximum; nil when the maximum is 0 (every unit always wins).
    public var share: Double? { maximumEntropy > 0 ? entropy / maximumEntropy : nil }

    /// The binary entropy of `p`, in bits: 0 at 0 and 1.
    static func bits(_ p: Double) -> Double { p <= 0 || p >= 1 ? 0 : -(p * log2(p) + (1 - p) * log2(1 - p)) }
}
