/// One chunk's samples while proximal gradient runs on them, packed so that
/// the rows still running are the first `count`: a row that stops is written
/// out and the last running row takes its place, so every product and step
/// shrinks with the rows left (most samples settle long before the slowest).
final class ProximalChunk {
    let width: Int
    private(set) var count: Int
    /// The codes, the codes before the last step, their products with the
    /// Gram matrix (q = aG) and the samples' correlations, `width` a row.
    private(set) var codes, previous, q, previousQ, correlations: UnsafeMutablePointer<Float>
    /// FISTA's momentum for each row's next step and its tₖ.
    let momentum: UnsafeMutablePointer<Float>
    let t, objectives, squaredNorms: UnsafeMutablePointer<Double>
    /// Whether the last step changed a row's signs, and for how many steps in a row they have held.
    let signsChanged: UnsafeMutablePointer<Bool>
    let settled: UnsafeMutablePointer<Int>
    /// Where each packed row came from in the chunk.
    private let origin: UnsafeMutablePointer<Int>

    init(codes: UnsafePointer<Float>, correlations c: UnsafePointer<Float>, squaredNorms norms: UnsafePointer<Double>,
         rows: Int, width: Int) {
        self.width = width
        count = rows
        let values = rows * width
        func floats() -> UnsafeMutablePointer<Float> { .allocate(capacity: max(values, 1)) }
        self.codes = floats(); previous = floats(); q = floats(); previousQ = floats(); correlations = floats()
        self.codes.update(from: codes, count: values)
        previous.update(repeating: 0, count: values)
        previousQ.update(repeating: 0, count: values)
        correlations.update(from: c, count: values)
        momentum = .allocate(capacity: max(rows, 1))
        t = .allocate(capacity: max(rows, 1))
        t.update(repeating: 1, count: rows)
        objectives = .allocate(capacity: max(rows, 1))
        squaredNorms = .allocate(capacity: max(rows, 1))
        squaredNorms.update(from: norms, count: rows)
        signsChanged = .allocate(capacity: max(rows, 1))
        settled = .allocate(capacity: max(rows, 1))
        settled.update(repeating: 0, count: rows)
        origin = .allocate(capacity: max(rows, 1))
        for r in 0..<rows { origin[r] = r }
    }

    deinit {
        for p in [codes, previous, q, previousQ, correlations] { p.deallocate() }
        momentum.deallocate(); t.deallocate(); objectives.deallocate(); squaredNorms.deallocate()
        signsChanged.deallocate(); settled.deallocate(); origin.deallocate()
    }

    /// The products of the step just taken become the previous ones.
    func swapProducts() { swap(&q, &previousQ) }

    /// Writes row `r`'s codes to its place in `out` (the chunk's codes) and
    /// moves the last running row into its slot.
    func remove(_ r: Int, into out: UnsafeMutablePointer<Float>) {
        (out + origin[r] * width).update(from: codes + r * width, count: width)
        count -= 1
        let last = count
        guard r != last else { return }
        for p in [codes, previous, q, previousQ, correlations] { (p + r * width).update(from: p + last * width, count: width) }
        t[r] = t[last]; objectives[r] = objectives[last]; squaredNorms[r] = squaredNorms[last]
        settled[r] = settled[last]; origin[r] = origin[last]
    }

    /// Writes every running row's codes to its place in `out`.
    func writeRunning(into out: UnsafeMutablePointer<Float>) {
        for r in 0..<count { (out + origin[r] * width).update(from: codes + r * width, count: width) }
    }
}
