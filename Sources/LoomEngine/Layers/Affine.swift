/// The matrix part dense and conv2d layers share: rows x `[rows, inputs]`
/// times a weight `[inputs, units]` plus a bias `[units]` (a convolution's
/// rows are its im2col patches). Forward and both gradients side by side.
///
/// With `transposesWeight` the weight is stored `[units, inputs]` and used
/// as its transpose: a dense layer tied to another's kernel.
///
/// With `groups` G > 1 (a grouped convolution) the inputs and units split
/// into G equal groups and each group's units see only their group's
/// inputs: the weight is `[inputs / G, units]`, and group g multiplies
/// columns g·inputs/G… of x by columns g·units/G… of the weight into the
/// same columns of the output — one product per group, in place through
/// leading dimensions, with no copies.
struct Affine {
    let weight: Parameter
    let bias: Parameter
    let inputs: Int
    let units: Int
    var transposesWeight = false
    var groups = 1

    /// The inputs and units of one group.
    private var groupInputs: Int { inputs / groups }
    private var groupUnits: Int { units / groups }

    /// out = x·W + b: every row starts from the bias, then x·W is added.
    func forward(_ x: UnsafePointer<Float>, rows: Int, into out: UnsafeMutablePointer<Float>) {
        GEMM.fillRows(out, rows: rows, with: bias.value.storage)
        weight.value.storage.withUnsafeBufferPointer { w in
            guard groups > 1 else {
                return GEMM.multiply(x, w.baseAddress!, transposeB: transposesWeight, into: out, m: rows, n: units, k: inputs, beta: 1)
            }
            for g in 0..<groups {
                GEMM.multiply(x + g * groupInputs, w.baseAddress! + g * groupUnits, into: out + g * groupUnits,
                              m: rows, n: groupUnits, k: groupInputs, beta: 1, lda: inputs, ldb: units, ldc: units)
            }
        }
    }

    /// Adds xᵀ·dy to the weight's gradient (dyᵀ·x when it is stored
    /// transposed; per group when grouped) and dy's row sums to the bias's.
    func addParameterGradients(x: UnsafePointer<Float>, dy: UnsafeBufferPointer<Float>, rows: Int) {
        weight.gradient.storage.withUnsafeMutableBufferPointer { dw in
            if transposesWeight {
                GEMM.multiply(dy.baseAddress!, transposeA: true, x, into: dw.baseAddress!, m: units, n: inputs, k: rows, beta: 1)
            } else if groups == 1 {
                GEMM.multiply(x, transposeA: true, dy.baseAddress!, into: dw.baseAddress!, m: inputs, n: units, k: rows, beta: 1)
            } else {
                for g in 0..<groups {
                    GEMM.multiply(x + g * groupInputs, transposeA: true, dy.baseAddress! + g * groupUnits,
                                  into: dw.baseAddress! + g * groupUnits, m: groupInputs, n: groupUnits, k: rows, beta: 1,
                                  lda: inputs, ldb: units, ldc: units)
                }
            }
        }
        GEMM.addRows(dy, rows: rows, into: &bias.gradient.storage)
    }

    /// dx = dy·Wᵀ (per group when grouped).
    func inputGradient(_ dy: UnsafePointer<Float>, rows: Int, into dx: UnsafeMutablePointer<Float>) {
        weight.value.storage.withUnsafeBufferPointer { w in
            guard groups > 1 else {
                return GEMM.multiply(dy, w.baseAddress!, transposeB: !transposesWeight, into: dx, m: rows, n: inputs, k: units)
            }
            for g in 0..<groups {
                GEMM.multiply(dy + g * groupUnits, w.baseAddress! + g * groupUnits, transposeB: true, into: dx + g * groupInputs,
                              m: rows, n: groupInputs, k: groupUnits, lda: units, ldb: units, ldc: inputs)
            }
        }
    }
}
