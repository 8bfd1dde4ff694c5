import LoomCore

/// The noise test of Ahmad and Scheinkman (2019, "How can we be so dense?"):
/// a share of each sample's values replaced by random ones, to measure how
/// a model holds up on inputs it has not seen clean.
///
/// The draw: in each sample of n values, in sample order, round(fraction × n)
/// positions (halves rounded up) are chosen uniformly without replacement,
/// and each is set to a value uniform over [low, high], the least and the
/// greatest value in the whole of the inputs (for pixels scaled to [0, 1],
/// a uniform grey level). Every draw comes from the generator given, so the
/// same seed corrupts the same values.
public struct InputNoise: Sendable, Equatable {
    /// The share of each sample's values replaced, from 0 to 1.
    public let fraction: Double

    public init(fraction: Double) {
        precondition(fraction >= 0 && fraction <= 1, "InputNoise: a share from 0 to 1, not \(fraction)")
        self.fraction = fraction
    }

    /// How many of a sample's `values` are replaced.
    public func replacedCount(of values: Int) -> Int {
        min(values, Int((fraction * Double(values)).rounded(.toNearestOrAwayFromZero)))
    }

    /// The bytes `corrupting` allocates for `inputs`: their copy and one
    /// sample's positions.
    public static func bytes(for inputs: Tensor) -> Int {
        MemoryAccount.sum(MemoryAccount.product(inputs.storage.count, 4), MemoryAccount.product(inputs.sampleSize, 8))
    }

    /// A copy of `inputs` (`[samples, …]`) with each sample's values
    /// replaced as the type's comment says.
    public func corrupting(_ inputs: Tensor, random: inout RandomGenerator) -> Tensor {
        let n = inputs.sampleSize, k = replacedCount(of: n)
        guard k > 0, inputs.batch > 0 else { return inputs }
        let low = inputs.storage.min() ?? 0, span = (inputs.storage.max() ?? 0) - low
        var noisy = inputs
        // A partial Fisher–Yates shuffle of the positions per sample: its
        // first k entries are a uniform k-subset whatever order it starts in,
        // so the array carries over from one sample to the next unreset.
        var positions = Array(0..<n)
        noisy.storage.withUnsafeMutableBufferPointer { values in
            for sample in 0..<inputs.batch {
                let start = sample * n
                for j in 0..<k {
                    positions.swapAt(j, Int.random(in: j..<n, using: &random))
                    values[start + positions[j]] = low + span * random.nextUnitFloat()
                }
            }
        }
        return noisy
    }
}

extension Dataset {
    /// The same samples with `noise` applied to their inputs and the targets
    /// kept; a reconstruction's targets become the clean inputs, so it
    /// measures how well the model removes the noise.
    public func corrupted(by noise: InputNoise, random: inout RandomGenerator) -> Dataset {
        var noisy = self
        noisy.inputs = noise.corrupting(inputs, random: &random)
        if case .inputs = targets { noisy.targets = .values(inputs) }
        return noisy
    }
}
