/// The matrix part dense and conv2d layers share: rows x `[rows, inputs]`
/// times a weight `[inputs, units]` plus a bias `[units]` (a convolution's
/// rows are its im2col patches). Forward and both gradients side by side.
///
/// With `transposesWeight` the weight is stored `[units, inputs]` and used
/// as its transpose: a dense layer tied to another's kernel.
struct Affine {
    let weight: Parameter
    let bias: Parameter
    let inputs: Int
    let units: Int
    var transposesWeight = false

    /// out = x·W + b: every row starts from the bias, then x·W is added.
    func forward(_ x: UnsafePointer<Float>, rows: Int, into out: UnsafeMutablePointer<Float>) {
        GEMM.fillRows(out, rows: rows, with: bias.value.storage)
        weight.value.storage.withUnsafeBufferPointer { w in
            GEMM.multiply(x, w.baseAddress!, transposeB: transposesWeight, into: out, m: rows, n: units, k: inputs, beta: 1)
        }
    }

    /// Adds xᵀ·dy to the weight's gradient (dyᵀ·x when it is stored
    /// transposed) and dy's row sums to the bias's.
    func addParameterGradients(x: UnsafePointer<Float>, dy: UnsafeBufferPointer<Float>, rows: Int) {
        weight.gradient.storage.withUnsafeMutableBufferPointer { dw in
            if transposesWeight {
                GEMM.multiply(dy.baseAddress!, transposeA: true, x, into: dw.baseAddress!, m: units, n: inputs, k: rows, beta: 1)
            } else {
                GEMM.multiply(x, transposeA: true, dy.baseAddress!, into: dw.baseAddress!, m: inputs, n: units, k: rows, beta: 1)
            }
        }
        GEMM.addRows(dy, rows: rows, into: &bias.gradient.storage)
    }

    /// dx = dy·Wᵀ.
    func inputGradient(_ dy: UnsafePointer<Float>, rows: Int, into dx: UnsafeMutablePointer<Float>) {
        weight.value.storage.withUnsafeBufferPointer { w in
            GEMM.multiply(dy, w.baseAddress!, transposeB: !transposesWeight, into: dx, m: rows, n: inputs, k: units)
        }
    }
}
