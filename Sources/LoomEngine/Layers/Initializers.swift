/// Keras's default initialisation: Glorot (Xavier) uniform weights,
/// U(-l, l) with l = √(6 / (fan_in + fan_out)); biases start at zero.
public enum Initializer {
    public static func glorotUniform(shape: [Int], fanIn: Int, fanOut: Int, random: inout RandomGenerator) -> Tensor {
        let limit = Float((6.0 / Double(fanIn + fanOut)).squareRoot())
        var t = Tensor(zeros: shape)
        for i in 0..<t.count { t[i] = (random.nextUnitFloat() * 2 - 1) * limit }
        return t
    }
}
