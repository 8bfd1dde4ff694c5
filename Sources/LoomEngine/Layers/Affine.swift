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
///
/// A weight that trains sparsely (`Parameter.sparsePattern`: neither
/// transposed nor grouped) trains through `SparseProducts` at its nonzeros.
struct Affine {
    let weight: Parameter
    let bias: Parameter
    let inputs: Int
    let units: Int
    var transposesWeight = false
    var groups = 1
    /// Whether the rows are a convolution's patches, hundreds per sample:
    /// the sparse weight gradient then sums lane by lane across blocks.
    var rowsArePatches = false

    /// The inputs and units of one group.
    private var groupInputs: Int { inputs / groups }
    private var groupUnits: Int { units / groups }

    /// out = x·W + b: every row starts from the bias, then x·W is added;
    /// in `training`, through the weight's pattern when it trains sparsely.
    func forward(_ x: UnsafePointer<Float>, rows: Int, into out: UnsafeMutablePointer<Float>, training: Bool = false) {
        if training, let values = weight.sparseValues {
            return bias.value.storage.withUnsafeBufferPointer { b in
                SparseProducts.forward(x, rows: rows, values: values, bias: b.baseAddress!, into: out)
            }
        }
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

    /// Adds dy's row sums to the bias's gradient, and xᵀ·dy to the weight's:
    /// to `Parameter.sparseGradient` at the pattern's places when it trains
    /// sparsely (and to the dense gradient too when a step asks for it).
    func addParameterGradients(x: UnsafePointer<Float>, dy: UnsafeBufferPointer<Float>, rows: Int) {
        if let pattern = weight.sparsePattern {
            if weight.sparseGradient.count != pattern.count { weight.sparseGradient = [Float](repeating: 0, count: pattern.count) }
            weight.sparseGradient.withUnsafeMutableBufferPointer { sparse in
                if rowsArePatches {
                    SparseProducts.addWeightGradientOverManyRows(x: x, dy: dy.baseAddress!, rows: rows, pattern: pattern,
                                                                 into: sparse.baseAddress!)
                } else {
                    SparseProducts.addWeightGradient(x: x, dy: dy.baseAddress!, rows: rows, pattern: pattern, into: sparse.baseAddress!)
                }
            }
            if weight.denseGradientRequested { addDenseWeightGradient(x: x, dy: dy.baseAddress!, rows: rows) }
        } else {
            addDenseWeightGradient(x: x, dy: dy.baseAddress!, rows: rows)
        }
        GEMM.addRows(dy, rows: rows, into: &bias.gradient.storage)
    }

    /// Adds xᵀ·dy to the weight's dense gradient (dyᵀ·x when it is stored transposed; per group when grouped).
    private func addDenseWeightGradient(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, rows: Int) {
        weight.gradient.storage.withUnsafeMutableBufferPointer { dw in
            if transposesWeight {
                GEMM.multiply(dy, transposeA: true, x, into: dw.baseAddress!, m: units, n: inputs, k: rows, beta: 1)
            } else if groups == 1 {
                GEMM.multiply(x, transposeA: true, dy, into: dw.baseAddress!, m: inputs, n: units, k: rows, beta: 1)
            } else {
                for g in 0..<groups {
                    GEMM.multiply(x + g * groupInputs, transposeA: true, dy + g * groupUnits,
                                  into: dw.baseAddress! + g * groupUnits, m: groupInputs, n: groupUnits, k: rows, beta: 1,
                                  lda: inputs, ldb: units, ldc: units)
                }
            }
        }
    }

    /// dx = dy·Wᵀ (per group when grouped; through the pattern when the weight trains sparsely).
    func inputGradient(_ dy: UnsafePointer<Float>, rows: Int, into dx: UnsafeMutablePointer<Float>) {
        if let values = weight.sparseValues { return SparseProducts.inputGradient(dy, rows: rows, values: values, into: dx) }
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
