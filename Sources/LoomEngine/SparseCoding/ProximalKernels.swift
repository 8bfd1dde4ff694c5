/// The element-wise work of ISTA, FISTA and LISTA, sixteen lanes at a time
/// (one AVX-512 register), each row of codes ending in one short vector: a
/// scalar loop in doubles took two thirds of a FISTA iteration.
enum ProximalKernels {
    typealias Lanes = SIMD16<Float>

    /// Soft thresholding at `cut`: v − cut above it, v + cut below −cut, else
    /// 0 (NaN too); `positive` keeps only v − cut > 0. Masked selects, so it
    /// vectorises.
    @inline(__always)
    static func soft(_ v: Lanes, _ cut: Lanes, positive: Bool) -> Lanes {
        let zero = Lanes(), above = v - cut
        if positive { return zero.replacing(with: above, where: above .> zero) }
        return zero.replacing(with: above, where: v .> cut).replacing(with: v + cut, where: v .< -cut)
    }

    /// `next = soft(z − step·(q − c), cut)` over `count` values, and the
    /// values before thresholding into `before` when given: one ISTA step
    /// from z, q = z·S. LISTA's step, and ISTA's when β = 0 in `momentumStep`
    /// (the same operations, so the same bits).
    static func step(_ z: UnsafePointer<Float>, q: UnsafePointer<Float>, c: UnsafePointer<Float>, step: Float, cut: Float,
                     into next: UnsafeMutablePointer<Float>, before: UnsafeMutablePointer<Float>?, count: Int) {
        let eta = Lanes(repeating: step), cuts = Lanes(repeating: cut)
        var i = 0
        while i < count {
            let lanes = min(16, count - i)
            let v = FastMath.load(z + i, lanes: lanes) - eta * (FastMath.load(q + i, lanes: lanes) - FastMath.load(c + i, lanes: lanes))
            if let before { FastMath.store(v, before + i, lanes: lanes) }
            FastMath.store(soft(v, cuts, positive: false), next + i, lanes: lanes)
            i += 16
        }
    }

    /// One FISTA step on `rows` rows of `width` codes, each row with its own
    /// momentum β: from y = a + β(a − old) and its product qʸ = q + β(q −
    /// oldQ) (linearity: no second product), a ← soft(y − step·(qʸ − c), cut)
    /// and old ← the codes before; `signsChanged[r]` says whether the step
    /// changed any of row r's signs (−, 0, +), so the caller sees a support settle.
    static func momentumStep(_ a: UnsafeMutablePointer<Float>, old: UnsafeMutablePointer<Float>, q: UnsafePointer<Float>,
                             oldQ: UnsafePointer<Float>, c: UnsafePointer<Float>, beta: UnsafePointer<Float>,
                             rows: Int, width: Int, step: Float, cut: Float, positive: Bool,
                             signsChanged: UnsafeMutablePointer<Bool>) {
        let eta = Lanes(repeating: step), cuts = Lanes(repeating: cut), zero = Lanes()
        for r in 0..<rows {
            let b = Lanes(repeating: beta[r]), row = r * width
            var changed = SIMDMask<SIMD16<Int32>>(repeating: false)
            var j = 0
            while j < width {
                let lanes = min(16, width - j), at = row + j
                let now = FastMath.load(a + at, lanes: lanes), before = FastMath.load(old + at, lanes: lanes)
                let qNow = FastMath.load(q + at, lanes: lanes)
                let y = now + b * (now - before)
                let gradient = qNow + b * (qNow - FastMath.load(oldQ + at, lanes: lanes)) - FastMath.load(c + at, lanes: lanes)
                let next = soft(y - eta * gradient, cuts, positive: positive)
                changed .|= ((next .> zero) .^ (now .> zero)) .| ((next .< zero) .^ (now .< zero))
                FastMath.store(now, old + at, lanes: lanes)
                FastMath.store(next, a + at, lanes: lanes)
                j += 16
            }
            signsChanged[r] = any(changed)
        }
    }

    /// A row's lasso objective ½‖x − aD‖² + α‖a‖₁ from its codes a, c = Dx,
    /// q = aG and ‖x‖²: ½(‖x‖² − 2a·c + a·q) + α‖a‖₁, the dot products
    /// in single precision (a row is short), the rest in double.
    @inline(__always)
    static func objective(_ a: UnsafePointer<Float>, c: UnsafePointer<Float>, q: UnsafePointer<Float>, width: Int,
                          squaredNorm: Double, alpha: Double) -> Double {
        var ac = Lanes(), aq = Lanes(), l1 = Lanes()
        var j = 0
        while j < width {
            let lanes = min(16, width - j)
            let v = FastMath.load(a + j, lanes: lanes)
            ac += v * FastMath.load(c + j, lanes: lanes)
            aq += v * FastMath.load(q + j, lanes: lanes)
            l1 += magnitude(v)
            j += 16
        }
        return 0.5 * max(0, squaredNorm - 2 * Double(ac.sum()) + Double(aq.sum())) + alpha * Double(l1.sum())
    }

    /// q = a·g for `rows` rows of `width` codes, g `[width, width]`: each
    /// row adds the rows of g at its nonzero codes, scaled, in order, while
    /// at most a quarter of the codes are nonzero (the lasso's, after the
    /// first iterations; sgemm's work over all of them took over half of a
    /// FISTA iteration); sgemm otherwise. ISTA and LISTA both multiply
    /// through it, so an untrained LISTA stays ISTA to the bit.
    static func product(_ a: UnsafePointer<Float>, _ g: UnsafePointer<Float>, into q: UnsafeMutablePointer<Float>,
                        rows: Int, width: Int) {
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: rows * (width + 1)) { buffer in
            let indices = buffer.baseAddress!, counts = indices + rows * width
            var total = 0
            for r in 0..<rows {
                let n = nonzeros(a + r * width, width: width, into: indices + r * width)
                counts[r] = Int32(truncatingIfNeeded: n)
                total += n
            }
            guard total * 4 <= rows * width else { return GEMM.multiply(a, g, into: q, m: rows, n: width, k: width) }
            for r in 0..<rows {
                sparseRowProduct(a + r * width, indices + r * width, count: Int(counts[r]), g, into: q + r * width, width: width)
            }
        }
    }

    /// The indices of the nonzero values of `row` into `list`, in order, and
    /// how many: sixteen compared at once into a mask of bits, read lowest
    /// first (a compare and a branch for each value mispredicted so often it
    /// took longer than the products).
    @inline(__always)
    static func nonzeros(_ row: UnsafePointer<Float>, width: Int, into list: UnsafeMutablePointer<Int32>) -> Int {
        let bits = SIMD16<UInt32>(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768)
        var n = 0, j = 0
        while j < width {
            let v = FastMath.load(row + j, lanes: min(16, width - j))
            var mask = SIMD16<UInt32>().replacing(with: bits, where: v .!= Lanes()).wrappedSum()
            while mask != 0 {
                list[n] = Int32(truncatingIfNeeded: j + mask.trailingZeroBitCount)
                n += 1
                mask &= mask - 1
            }
            j += 16
        }
        return n
    }

    /// out = Σₑ row[jₑ]·g[jₑ, ·] over the `count` indices jₑ, 64 columns (four vectors) at a time, then 16.
    @inline(__always)
    static func sparseRowProduct(_ row: UnsafePointer<Float>, _ indices: UnsafePointer<Int32>, count: Int, _ g: UnsafePointer<Float>,
                                 into out: UnsafeMutablePointer<Float>, width: Int) {
        var column = 0
        while column + 64 <= width {
            var s0 = Lanes(), s1 = Lanes(), s2 = Lanes(), s3 = Lanes()
            for e in 0..<count {
                let j = Int(indices[e]), v = Lanes(repeating: row[j]), p = UnsafeRawPointer(g + j * width + column)
                s0 += v * p.loadUnaligned(as: Lanes.self)
                s1 += v * p.loadUnaligned(fromByteOffset: 64, as: Lanes.self)
                s2 += v * p.loadUnaligned(fromByteOffset: 128, as: Lanes.self)
                s3 += v * p.loadUnaligned(fromByteOffset: 192, as: Lanes.self)
            }
            let o = UnsafeMutableRawPointer(out + column)
            o.storeBytes(of: s0, as: Lanes.self)
            o.storeBytes(of: s1, toByteOffset: 64, as: Lanes.self)
            o.storeBytes(of: s2, toByteOffset: 128, as: Lanes.self)
            o.storeBytes(of: s3, toByteOffset: 192, as: Lanes.self)
            column += 64
        }
        // The last columns, a vector at a time.
        while column < width {
            let lanes = min(16, width - column)
            var s = Lanes()
            for e in 0..<count {
                let j = Int(indices[e])
                s += Lanes(repeating: row[j]) * FastMath.load(g + j * width + column, lanes: lanes)
            }
            FastMath.store(s, out + column, lanes: lanes)
            column += 16
        }
    }

    @inline(__always)
    static func magnitude(_ v: Lanes) -> Lanes {
        unsafeBitCast(unsafeBitCast(v, to: SIMD16<UInt32>.self) & 0x7FFF_FFFF, to: Lanes.self)
    }
}
