/// How a value becomes a character and a colour, shared by heatmaps and image
/// grids: signed data on a diverging scale (shades for positive, growing dots
/// for negative, blank within a fifth of the largest magnitude of 0),
/// unsigned data on one shade ramp in five equal steps from its minimum to
/// its maximum, as the SVG's colour scale runs.
struct ValueShading {
    let low: Double
    let high: Double
    let signed: Bool

    static let negativeRamp: [Character] = [" ", "·", "∙", "•", "●"]

    init(values: [Double]) {
        let range = Scale.range(values) ?? (0, 0)
        low = range.min
        high = range.max
        signed = range.min < 0
    }

    var magnitude: Double { max(abs(low), abs(high)) }

    /// -1…1 for signed data, 0…1 otherwise.
    func position(_ v: Double) -> Double {
        if signed { return magnitude > 0 ? v / magnitude : 0 }
        return high > low ? (v - low) / (high - low) : (high != 0 ? 1 : 0)
    }

    func character(_ v: Double) -> Character {
        if v.isNaN { return "?" }
        if v.isInfinite { return v > 0 ? "▲" : "▼" }
        let t = position(v)
        if t < 0 { return ValueShading.negativeRamp[GlyphCanvas.step(-t)] }
        return GlyphCanvas.shade(t)
    }

    func colour(_ v: Double) -> String {
        if v.isNaN { return "#ff00ff" }
        if v.isInfinite { return v > 0 ? "#7f0000" : "#00007f" }
        return signed ? SVG.diverging(position(v)) : SVG.gray(position(v))
    }

    /// The legend line: what the characters mean.
    var legend: String {
        if low > high { return "scale: no finite values" }
        if signed {
            return "scale: ● \(Scale.label(-magnitude)) · ∙ • ●  0  ░ ▒ ▓ █ \(Scale.label(magnitude))"
        }
        return "scale: ' ' \(Scale.label(low)) ░ ▒ ▓ █ \(Scale.label(high))"
    }
}
