import LoomEngine
import XCTest

/// The noise test's draw: how many values, which positions, what values,
/// and that a seed repeats it.
final class InputNoiseTests: XCTestCase {
    /// Samples of `size` values alternating 0 and 1: a replacement, uniform
    /// over [0, 1), is told apart from every original but a drawn exact 0.
    func alternating(samples: Int, size: Int) -> Tensor {
        Tensor(shape: [samples, size], storage: (0..<samples * size).map { Float($0 % size % 2) })
    }

    func replaced(_ clean: Tensor, _ noisy: Tensor, sample: Int) -> [Int] {
        let n = clean.sampleSize
        return (0..<n).filter { clean[sample * n + $0] != noisy[sample * n + $0] }
    }

    func testEachSampleHasExactlyTheRoundedShareReplaced() {
        let clean = alternating(samples: 50, size: 100)
        for (fraction, count) in [(0.1, 10), (0.25, 25), (0.57, 57), (0.005, 1), (0.004, 0), (1.0, 100)] {
            var random = RandomGenerator(seed: 11)
            let noise = InputNoise(fraction: fraction)
            XCTAssertEqual(noise.replacedCount(of: 100), count, "\(fraction)")
            let noisy = noise.corrupting(clean, random: &random)
            XCTAssertEqual(noisy.shape, clean.shape)
            for s in 0..<50 { XCTAssertEqual(replaced(clean, noisy, sample: s).count, count, "\(fraction), sample \(s)") }
        }
        XCTAssertEqual(InputNoise(fraction: 0.5).replacedCount(of: 3), 2, "halves round up")
    }

    func testReplacementsStayWithinTheDataRangeAndSpreadOverPositions() {
        // Values from -2 to 6: the replacements lie between, and not near one end only.
        let clean = Tensor(shape: [2000, 10], storage: (0..<20_000).map { Float($0 % 10 == 0 ? 6 : ($0 % 10 == 1 ? -2 : 1)) })
        var random = RandomGenerator(seed: 3)
        let noisy = InputNoise(fraction: 0.3).corrupting(clean, random: &random)
        var chosen = [Int](repeating: 0, count: 10)
        var drawn: [Float] = []
        for s in 0..<2000 {
            for j in 0..<10 where noisy[s * 10 + j] != clean[s * 10 + j] {
                chosen[j] += 1
                drawn.append(noisy[s * 10 + j])
            }
        }
        XCTAssertGreaterThanOrEqual(drawn.min() ?? -9, -2)
        XCTAssertLessThanOrEqual(drawn.max() ?? 9, 6)
        let mean = drawn.reduce(0, +) / Float(drawn.count)
        XCTAssertEqual(mean, 2, accuracy: 0.15, "uniform over [-2, 6]")
        // Each position is picked in 30% of 2,000 samples: 600 ± 5 standard deviations (about 20 each).
        // (Replacing a 1 by a value drawn equal to 1 is not seen; it has probability 2⁻²⁴.)
        for (j, count) in chosen.enumerated() { XCTAssertEqual(Double(count), 600, accuracy: 100, "position \(j)") }
    }

    func testTheSameSeedCorruptsTheSameValues() {
        let clean = alternating(samples: 20, size: 64)
        var a = RandomGenerator(seed: 5), b = RandomGenerator(seed: 5), c = RandomGenerator(seed: 6)
        let noise = InputNoise(fraction: 0.4)
        let first = noise.corrupting(clean, random: &a)
        XCTAssertEqual(first, noise.corrupting(clean, random: &b))
        XCTAssertNotEqual(first, noise.corrupting(clean, random: &c))
    }

    func testNoNoiseLeavesTheInputsAndTheGeneratorAsTheyWere() {
        let clean = alternating(samples: 4, size: 16)
        var random = RandomGenerator(seed: 9), untouched = RandomGenerator(seed: 9)
        XCTAssertEqual(InputNoise(fraction: 0).corrupting(clean, random: &random), clean)
        XCTAssertEqual(random.next(), untouched.next())
    }

    func testAReconstructionIsMeasuredAgainstTheCleanInputs() {
        let clean = alternating(samples: 8, size: 10)
        var random = RandomGenerator(seed: 1)
        let noisy = Dataset(inputs: clean, labels: Array(0..<8)).reconstructing
            .corrupted(by: InputNoise(fraction: 0.5), random: &random)
        XCTAssertNotEqual(noisy.inputs, clean)
        guard case .values(let targets) = noisy.targets else { return XCTFail("\(noisy.targets)") }
        XCTAssertEqual(targets, clean)
        // Labels are kept as they were.
        var again = RandomGenerator(seed: 1)
        XCTAssertEqual(Dataset(inputs: clean, labels: Array(0..<8)).corrupted(by: InputNoise(fraction: 0.5), random: &again).labels,
                       Array(0..<8))
    }
}
