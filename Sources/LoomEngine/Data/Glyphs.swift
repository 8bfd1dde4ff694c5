#if canImport(Glibc)
import Glibc
#endif

/// Synthetic 10-class digit-like images, made offline: each digit is a few
/// strokes, drawn with a random scale, shift, slant and thickness, plus pixel
/// noise. The same seed gives the same images.
public enum Glyphs {
    typealias Point = (x: Float, y: Float)

    /// Each digit as polylines in the unit square (y down).
    static let strokes: [[[Point]]] = [
        [ellipse(cx: 0.5, cy: 0.5, rx: 0.28, ry: 0.38)],
        [[(0.35, 0.25), (0.52, 0.1), (0.52, 0.9)]],
        [[(0.22, 0.3), (0.35, 0.13), (0.62, 0.12), (0.78, 0.28), (0.7, 0.48), (0.22, 0.88), (0.82, 0.88)]],
        [[(0.22, 0.15), (0.75, 0.15), (0.45, 0.45), (0.72, 0.55), (0.78, 0.75), (0.6, 0.9), (0.22, 0.86)]],
        [[(0.65, 0.9), (0.65, 0.1), (0.15, 0.65), (0.85, 0.65)]],
        [[(0.8, 0.12), (0.28, 0.12), (0.24, 0.46), (0.6, 0.42), (0.78, 0.62), (0.66, 0.86), (0.22, 0.86)]],
        [[(0.72, 0.12), (0.38, 0.35), (0.24, 0.62), (0.36, 0.88), (0.64, 0.88), (0.74, 0.66), (0.52, 0.5), (0.26, 0.62)]],
        [[(0.2, 0.12), (0.8, 0.12), (0.42, 0.9)], [(0.35, 0.5), (0.7, 0.5)]],
        [ellipse(cx: 0.5, cy: 0.3, rx: 0.2, ry: 0.18), ellipse(cx: 0.5, cy: 0.7, rx: 0.24, ry: 0.2)],
        [ellipse(cx: 0.48, cy: 0.32, rx: 0.22, ry: 0.2), [(0.7, 0.34), (0.6, 0.9)]],
    ]

    static func ellipse(cx: Float, cy: Float, rx: Float, ry: Float) -> [Point] {
        (0...20).map { i in
            let a = Float(i) / 20 * 2 * Float.pi
            return (cx + rx * cosf(a), cy + ry * sinf(a))
        }
    }

    /// `n` images of `size`×`size`×1 with values in [0, 1], labels cycling
    /// through the ten digits so classes stay balanced. `shouldStop` is
    /// asked every 256 images; nil when it said stop.
    public static func make(count n: Int, size: Int, noise: Float, random: inout RandomGenerator,
                            shouldStop: () -> Bool = { false }) -> Dataset? {
        let pixels = size * size
        var storage = [Float](repeating: 0, count: n * pixels)
        var labels = [Int](repeating: 0, count: n)
        let finished = storage.withUnsafeMutableBufferPointer { out -> Bool in
            for i in 0..<n {
                if i % 256 == 0, shouldStop() { return false }
                let digit = i % 10
                labels[i] = digit
                draw(digit, size: size, noise: noise, random: &random, into: out.baseAddress! + i * pixels)
            }
            return true
        }
        guard finished else { return nil }
        return Dataset(inputs: Tensor(shape: [n, size, size, 1], storage: storage), labels: labels, classes: 10)
    }

    static func draw(_ digit: Int, size: Int, noise: Float, random: inout RandomGenerator,
                     into image: UnsafeMutablePointer<Float>) {
        func uniform(_ lo: Float, _ hi: Float) -> Float { lo + (hi - lo) * random.nextUnitFloat() }
        let s = Float(size)
        let scale = uniform(0.62, 0.82) * s
        let slant = uniform(-0.25, 0.25)
        let dx = uniform(-0.1, 0.1) * s + (s - scale) / 2, dy = uniform(-0.08, 0.08) * s + (s - scale) / 2
        let thickness = uniform(0.05, 0.09) * s
        // Strokes mapped to pixels; segments as (ax, ay, bx, by).
        var segments: [(Float, Float, Float, Float)] = []
        for line in strokes[digit] {
            let mapped = line.map { p -> Point in
                let jx = p.x + uniform(-0.03, 0.03), jy = p.y + uniform(-0.03, 0.03)
                return (dx + (jx + slant * (0.5 - jy)) * scale, dy + jy * scale)
            }
            for k in 1..<mapped.count { segments.append((mapped[k - 1].x, mapped[k - 1].y, mapped[k].x, mapped[k].y)) }
        }
        let half = thickness / 2
        for y in 0..<size {
            for x in 0..<size {
                let px = Float(x) + 0.5, py = Float(y) + 0.5
                var nearest = Float.infinity
                for (ax, ay, bx, by) in segments {
                    let vx = bx - ax, vy = by - ay
                    let length2 = vx * vx + vy * vy
                    let t = length2 > 0 ? max(0, min(1, ((px - ax) * vx + (py - ay) * vy) / length2)) : 0
                    let ex = px - (ax + t * vx), ey = py - (ay + t * vy)
                    nearest = min(nearest, ex * ex + ey * ey)
                }
                var v = max(0, min(1, 1 - (nearest.squareRoot() - half)))
                if noise > 0 { v += noise * (random.nextUnitFloat() + random.nextUnitFloat() - 1) }
                image[y * size + x] = max(0, min(1, v))
            }
        }
    }
}
