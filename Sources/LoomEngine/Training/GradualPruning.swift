/// Zhu and Gupta's (2017) cubic sparsity schedule: from `initial` at step
/// `start` to `final` at step `end`,
/// s(t) = s_f + (s_i − s_f)·(1 − (t − t₀)/(nΔt))³ with t₀ = `start` and
/// nΔt = `end − start`; fast at first, when many weights are redundant,
/// slow near the end (tfmot's `PolynomialDecay(power=3)`).
public struct CubicSparsitySchedule: Sendable, Equatable {
    public var initial: Double
    public var final: Double
    public var start: Int
    public var end: Int

    public init(initial: Double, final: Double, start: Int, end: Int) {
        self.initial = initial
        self.final = final
        self.start = start
        self.end = end
    }

    /// The sparsity at step `t`: `initial` up to `start`, `final` from `end` on.
    public func sparsity(atStep t: Int) -> Double {
        guard t > start else { return initial }
        guard t < end else { return final }
        let remaining = 1 - Double(t - start) / Double(end - start)
        return final + (initial - final) * remaining * remaining * remaining
    }
}

/// Gradual magnitude pruning during a fit (`train … prune to P%`): the
/// prunable weights' masks follow the cubic schedule from the start of
/// epoch `firstEpoch` to the end of epoch `lastEpoch` (epochs of the fit,
/// from 1), set every `every` steps or, without it, at each epoch's end,
/// by magnitude per weight or, `global`ly, over all of them together
/// (`SparseWeights.prune`). The schedule starts from each group's masked
/// share, so a pruned model goes on from where it is; masks only grow.
public final class GradualPruning: TrainingHook {
    public let weights: [Parameter]
    public let target: Double
    public let firstEpoch: Int
    public let lastEpoch: Int
    public let every: Int?
    public let global: Bool
    /// Each group pruned together (every weight alone, or all of them) and its schedule, made when the fit starts.
    private var groups: [(weights: [Parameter], schedule: CubicSparsitySchedule)] = []
    private var interval = 1

    public init(weights: [Parameter], target: Double, firstEpoch: Int, lastEpoch: Int, every: Int? = nil, global: Bool) {
        self.weights = weights
        self.target = target
        self.firstEpoch = firstEpoch
        self.lastEpoch = lastEpoch
        self.every = every
        self.global = global
    }

    public func fitStarts(batchesPerEpoch: Int) {
        let (start, end) = ((firstEpoch - 1) * batchesPerEpoch, lastEpoch * batchesPerEpoch)
        interval = every ?? batchesPerEpoch
        groups = (global ? [weights] : weights.map { [$0] }).map { group in
            (group, CubicSparsitySchedule(initial: GradualPruning.maskedShare(group), final: target, start: start, end: end))
        }
    }

    public func afterStep(_ step: Int) {
        for (group, schedule) in groups where step > schedule.start && step <= schedule.end {
            guard (step - schedule.start) % max(1, interval) == 0 || step == schedule.end else { continue }
            SparseWeights.prune(group, fraction: schedule.sparsity(atStep: step), global: global)
        }
    }

    public func afterEpoch(_ epoch: Int, record: inout EpochRecord) {
        let total = weights.reduce(0) { $0 + $1.value.count }
        record.sparsity = Double(weights.reduce(0) { $0 + $1.zeroCount }) / Double(max(1, total))
    }

    /// The share of `group`'s weights their masks hold at zero.
    static func maskedShare(_ group: [Parameter]) -> Double {
        let masked = group.reduce(0) { $0 + ($1.mask?.reduce(0) { $0 + ($1 == 0 ? 1 : 0) } ?? 0) }
        return Double(masked) / Double(max(1, group.reduce(0) { $0 + $1.value.count }))
    }
}
