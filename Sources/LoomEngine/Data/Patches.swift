#if canImport(Glibc)
import Glibc
#endif

/// Synthetic grey-level image patches, made offline, of the kinds natural
/// images are made of: step edges at any angle and softness, thin lines,
/// corners, smooth ramps and gratings, each with a little pixel noise.
/// Unlabelled, for dictionary learning; the same seed gives the same patches.
public enum Patches {
    public enum Kind: CaseIterable { case edge, line, corner, ramp, grating }

    /// `n` patches of `size`×`size`×1, values in [0, 1]. `shouldStop` is asked
    /// every 1024 patches; nil when it said stop.
    public static func make(count n: Int, size: Int, noise: Float = 0.02, random: inout RandomGenerator,
                            shouldStop: () -> Bool = { false }) -> Dataset? {
        let pixels = size * size
        var storage = [Float](repeating: 0, count: n * pixels)
        let finished = storage.withUnsafeMutableBufferPointer { out -> Bool in
            for i in 0..<n {
                if i % 1024 == 0, shouldStop() { return false }
                // Edges are the commonest structure; ramps and gratings fill smooth regions.
                let roll = random.nextUnitFloat()
                let kind: Kind = roll < 0.4 ? .edge : roll < 0.55 ? .line : roll < 0.7 ? .corner : roll < 0.85 ? .ramp : .grating
                draw(kind, size: size, noise: noise, random: &random, into: out.baseAddress! + i * pixels)
            }
            return true
        }
        guard finished else { return nil }
        return Dataset(inputs: Tensor(shape: [n, size, size, 1], storage: storage), targets: .none)
    }

    static func draw(_ kind: Kind, size: Int, noise: Float, random: inout RandomGenerator,
                     into patch: UnsafeMutablePointer<Float>) {
        func uniform(_ lo: Float, _ hi: Float) -> Float { lo + (hi - lo) * random.nextUnitFloat() }
        let s = Float(size), centre = Float(size) / 2
        let angle = uniform(0, 2 * .pi), (c, sn) = (cosf(angle), sinf(angle))
        let offset = uniform(-0.25, 0.25) * s
        let base = uniform(0.1, 0.5), contrast = uniform(0.25, 0.5)
        let softness = uniform(0.3, 1.2)
        let width = uniform(0.5, 1.2)
        let turn = uniform(0.35, 0.65) * .pi
        let (c2, s2) = (cosf(angle + turn), sinf(angle + turn))
        let frequency = uniform(1.5, 3.5) / s, phase = uniform(0, 2 * .pi)
        for y in 0..<size {
            for x in 0..<size {
                let px = Float(x) + 0.5 - centre, py = Float(y) + 0.5 - centre
                let along = px * c + py * sn - offset
                var v: Float
                switch kind {
                case .edge: v = base + contrast / (1 + expf(-along / softness))
                case .line: v = base + contrast * expf(-along * along / (2 * width * width))
                case .corner:
                    let other = px * c2 + py * s2 - offset
                    v = base + contrast / (1 + expf(-along / softness)) / (1 + expf(-other / softness))
                case .ramp: v = base + contrast * (0.5 + along / s)
                case .grating: v = base + contrast * 0.5 * (1 + sinf(2 * .pi * frequency * (px * c + py * sn) + phase))
                }
                if noise > 0 { v += noise * random.nextNormalFloat() }
                patch[y * size + x] = max(0, min(1, v))
            }
        }
    }
}
