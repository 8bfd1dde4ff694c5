/// An N:M pattern (`prune M 2:4`): each unit keeps at most `kept` of every
/// `block` consecutive inputs (a weight `[fan-in, units]`'s rows, a
/// convolution's im2col rows). A weight records the pattern its mask keeps,
/// so rewiring moves weights within their blocks and saving keeps it.
public struct BlockPattern: Sendable, Equatable, CustomStringConvertible {
    public let kept: Int
    public let block: Int

    /// The largest M a pattern takes.
    public static let largestBlock = 1024

    /// A pattern with 1 ≤ kept < block ≤ `largestBlock`; nil otherwise.
    public init?(kept: Int, block: Int) {
        guard kept >= 1, kept < block, block <= BlockPattern.largestBlock else { return nil }
        (self.kept, self.block) = (kept, block)
    }

    /// `2:4`.
    public var description: String { "\(kept):\(block)" }

    /// The block (numbered unit-fastest within each run of `block` rows) that
    /// flat place `i` of a weight with `units` columns falls in.
    func blockIndex(of i: Int, units: Int) -> Int { (i / units / block) * units + i % units }

    /// How many blocks a weight of `count` values and `units` columns has.
    func blockCount(count: Int, units: Int) -> Int { (count / units + block - 1) / block * units }
}
