#if canImport(Glibc)
import Glibc
#endif

/// Synthetic sequence tasks, made offline and the same for the same seed.
public enum Sequences {
    /// What a `sines` data set asks of a model.
    public enum SineTarget: String, Sendable, CaseIterable {
        /// The frequency band the wave comes from (classification).
        case classes
        /// The wave's value one step after the sequence ends (regression).
        case next
    }

    /// The lowest and highest frequency, in cycles per step (below Nyquist's 0.5).
    static let frequencies: ClosedRange<Double> = 0.03...0.45

    /// `count` waves of `steps` values, `[count, steps, 1]`: `A·sin(2πft + φ)`
    /// with random amplitude A in [0.5, 1.5) and phase φ in the first quarter
    /// cycle, plus Gaussian noise of standard deviation `noise`. Sample i
    /// comes from band i mod `classes`: the frequency range cut into
    /// `classes` equal bands, f drawn from the middle 40% of its band, so
    /// neighbouring bands stay apart. `target` picks the band
    /// (classification) or the value one step after the end (regression).
    /// `shouldStop` is asked every 1,024 sequences; nil when it said stop.
    public static func sines(count: Int, steps: Int, classes: Int, noise: Float, target: SineTarget,
                             random: inout RandomGenerator, shouldStop: () -> Bool = { false }) -> Dataset? {
        let band = (frequencies.upperBound - frequencies.lowerBound) / Double(classes)
        var values = [Float](repeating: 0, count: count * steps)
        var labels = [Int](repeating: 0, count: count), next = [Float](repeating: 0, count: count)
        for i in 0..<count {
            if i % 1024 == 0, shouldStop() { return nil }
            let k = i % classes
            let f = frequencies.lowerBound + band * (Double(k) + 0.3 + 0.4 * random.nextUnitDouble())
            let amplitude = 0.5 + random.nextUnitDouble(), phase = Double.pi / 2 * random.nextUnitDouble()
            func wave(_ t: Int) -> Double { amplitude * sin(2 * Double.pi * f * Double(t) + phase) }
            for t in 0..<steps { values[i * steps + t] = Float(wave(t)) + noise * random.nextNormalFloat() }
            labels[i] = k
            next[i] = Float(wave(steps))
        }
        let inputs = Tensor(shape: [count, steps, 1], storage: values)
        switch target {
        case .classes: return Dataset(inputs: inputs, labels: labels, classes: classes)
        case .next: return Dataset(inputs: inputs, targets: .values(Tensor(shape: [count, 1], storage: next)))
        }
    }

    /// The adding problem (Hochreiter and Schmidhuber, 1997): each step holds
    /// a value in [0, 1) and a marker; exactly two steps are marked, one in
    /// each half of the sequence, and the target is the sum of their values.
    /// Always answering the mean (1) scores an MSE of 1/6; a model that
    /// learns has to carry the first marked value across the gap.
    /// `[count, steps, 2]`, targets `[count, 1]`. `shouldStop` is asked every
    /// 1,024 sequences; nil when it said stop.
    public static func adding(count: Int, steps: Int, random: inout RandomGenerator,
                              shouldStop: () -> Bool = { false }) -> Dataset? {
        precondition(steps >= 2, "the adding problem needs two steps or more")
        let half = steps / 2
        var values = [Float](repeating: 0, count: count * steps * 2)
        var sums = [Float](repeating: 0, count: count)
        for i in 0..<count {
            if i % 1024 == 0, shouldStop() { return nil }
            for t in 0..<steps { values[(i * steps + t) * 2] = random.nextUnitFloat() }
            let first = Int(random.next() % UInt64(half))
            let second = half + Int(random.next() % UInt64(max(1, steps - half)))
            for t in [first, second] {
                values[(i * steps + t) * 2 + 1] = 1
                sums[i] += values[(i * steps + t) * 2]
            }
        }
        return Dataset(inputs: Tensor(shape: [count, steps, 2], storage: values),
                       targets: .values(Tensor(shape: [count, 1], storage: sums)))
    }
}
