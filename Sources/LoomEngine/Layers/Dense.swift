/// A fully connected layer: y = x·W + b, with x `[batch, inputs]`,
/// W `[inputs, units]`, b `[units]`, y `[batch, units]`.
public final class Dense: Layer {
    public let name: String
    public let kind = "dense"
    public let inputShape: [Int]
    public let outputShape: [Int]
    public let weight: Parameter
    public let bias: Parameter
    private var input = Tensor(zeros: [0])

    public init(name: String, inputs: Int, units: Int, random: inout RandomGenerator) {
        self.name = name
        inputShape = [inputs]
        outputShape = [units]
        weight = Parameter(name: "kernel", value: Initializer.glorotUniform(shape: [inputs, units], fanIn: inputs,
                                                                             fanOut: units, random: &random))
        bias = Parameter(name: "bias", value: Tensor(zeros: [units]))
    }

    private init(replicating other: Dense) {
        name = other.name
        inputShape = other.inputShape
        outputShape = other.outputShape
        weight = other.weight.replica()
        bias = other.bias.replica()
    }

    public func replica() -> Layer { Dense(replicating: self) }

    public var parameters: [Parameter] { [weight, bias] }
    public var multiplyAdds: Int { inputShape[0] * outputShape[0] }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        if training { input = x }
        let n = x.batch, inputs = inputShape[0], units = outputShape[0]
        return Tensor(shape: [n, units]) { out in
            // Start every row from the bias, then add x·W.
            GEMM.fillRows(out.baseAddress!, rows: n, with: bias.value.storage)
            x.storage.withUnsafeBufferPointer { xs in
                weight.value.storage.withUnsafeBufferPointer { w in
                    GEMM.multiply(xs.baseAddress!, w.baseAddress!, into: out.baseAddress!, m: n, n: units, k: inputs, beta: 1)
                }
            }
        }
    }

    public func backward(_ dy: Tensor) -> Tensor {
        addParameterGradients(dy)
        let n = dy.batch, inputs = inputShape[0], units = outputShape[0]
        return Tensor(shape: [n, inputs]) { out in
            dy.storage.withUnsafeBufferPointer { g in
                weight.value.storage.withUnsafeBufferPointer { w in
                    GEMM.multiply(g.baseAddress!, w.baseAddress!, transposeB: true, into: out.baseAddress!,
                                  m: n, n: inputs, k: units)
                }
            }
        }
    }

    public func addParameterGradients(_ dy: Tensor) {
        let n = dy.batch, inputs = inputShape[0], units = outputShape[0]
        dy.storage.withUnsafeBufferPointer { g in
            input.storage.withUnsafeBufferPointer { xs in
                weight.gradient.storage.withUnsafeMutableBufferPointer { dw in
                    GEMM.multiply(xs.baseAddress!, transposeA: true, g.baseAddress!, into: dw.baseAddress!,
                                  m: inputs, n: units, k: n, beta: 1)
                }
            }
            GEMM.addRows(g, rows: n, into: &bias.gradient.storage)
        }
    }
}
