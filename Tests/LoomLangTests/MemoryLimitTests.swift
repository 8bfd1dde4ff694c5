import Foundation
import LoomCore
import LoomEngine
import LoomLang
import XCTest

/// `set memory` bounds every path that allocates in proportion to its input,
/// asked before allocating: inference batches, dictionaries' Gram matrices and
/// codes, values, results tables.
final class MemoryLimitTests: LoomTestCase {
    /// A model whose training batch of 4 fits in 64 MiB, but whose inference
    /// batch of 256 needs hundreds.
    let wideConvolution = """
        set memory 64
        data g = glyphs n 300 size 64
        model m {
          input 64x64x1
          conv2d 32 3x3
          flatten
          dense 10 softmax
        }
        """

    func refusal(_ code: String) -> String { error(code)?.value ?? "(no error)" }

    /// `show sparsity … on`, `compare` and `show activations` run in
    /// batches that fit, and show at 64 MiB what they show with all the
    /// memory they want; the activations a figure keeps for every sample
    /// (256 conv outputs of 961 KiB) are refused, a few samples' drawn.
    func testInspectionRunsInBatchesThatFit() {
        guard case .ok = run(wideConvolution + "\ntrain m on g epochs 1 batch 4") else { return XCTFail("\(texts())") }
        guard case .object(let state as ModelState)? = loom.session["m"] else { return XCTFail("no model m") }
        XCTAssertGreaterThan(state.model.forwardBytes(samples: 300), 64 << 20, "one pass over all would not fit")
        let statements = ["show sparsity m on g", "show activations m.dense1 on g"]
        let small = statements.map(shown)
        for (statement, result) in zip(statements, small) {
            XCTAssertFalse(result.joined().contains("error:"), "\(statement): \(result)")
        }
        XCTAssertTrue(small[0].joined().contains("dead") && small[0].joined().contains("conv1 activations"), "\(small[0])")
        guard case .ok = run("compare m on g") else { return XCTFail("compare: \(texts())") }
        let text = refusal("show activations m.conv1 on g")
        XCTAssertTrue(text.hasPrefix("running `m` on 256 samples one at a time, keeping 961 KiB of each would need"), text)
        guard case .ok = run("data few = glyphs n 4 size 64\nshow activations m.conv1 on few") else {
            return XCTFail("4 samples fit")
        }
        guard case .ok = run("set memory 4096") else { return XCTFail() }
        XCTAssertEqual(statements.map(shown), small)
    }

    /// A small model on 40 samples, and what `show activations` keeps of each
    /// sample (its outputs, as doubles) and copies of each in a batch.
    let smallModel = """
        data s = glyphs n 40 size 8
        model k {
          input 8x8x1
          conv2d 4 3x3 relu
          flatten
          dense 16 relu
          dense 10 softmax
        }
        """

    /// The limit, in bytes, at which inference over `samples` takes batches
    /// of `batch`, keeping `keeping` bytes a sample and copying `perBatchSample`.
    func limit(batch: Int, _ model: Sequential, samples: Int, keeping: Int, perBatchSample: Int) -> Int {
        let held = loom.session.memory.heldBytes, one = model.inferenceBytes(samples: 1) + perBatchSample
        let limit = held + samples * keeping + batch * one + one / 2
        XCTAssertEqual(model.inferenceBatch(fitting: limit - held - samples * keeping, extraPerSample: perBatchSample), batch)
        return limit
    }

    /// At limits that make batches of 1, 7 and all 40 samples, the reports
    /// are those of one pass; a limit one byte short of a sample is refused.
    func testInspectionFiguresAreTheSameInBatchesOfAnySize() throws {
        guard case .ok = run(smallModel + "\ntrain k on s epochs 1 batch 8") else { return XCTFail("\(texts())") }
        guard case .object(let state as ModelState)? = loom.session["k"] else { return XCTFail("no model k") }
        let model = state.model
        let reports: [(statement: String, keeping: Int, perBatchSample: Int)] = [
            ("show sparsity k on s", 0, 0),
            ("show activations k.conv1 on s first 2", 8 * 144, 4 * model.blocks[0].main.trainingFloatsPerSample),
            ("show activations k.dense1 on s", 8 * 16, 4 * model.blocks[2].main.trainingFloatsPerSample),
        ]
        for report in reports {
            let onePass = shown(report.statement)
            XCTAssertFalse(onePass.joined().contains("error:"), "\(report.statement): \(onePass)")
            for batch in [1, 7, 256] {
                loom.session.memoryLimit = limit(batch: batch, model, samples: 40, keeping: report.keeping,
                                                 perBatchSample: report.perBatchSample)
                XCTAssertEqual(shown(report.statement), onePass, "\(report.statement) in batches of \(batch)")
            }
            loom.session.memoryLimit = loom.session.memory.heldBytes + 40 * report.keeping + model.inferenceBytes(samples: 1)
                + report.perBatchSample - 1
            let text = refusal(report.statement)
            XCTAssertTrue(text.hasPrefix("running `k` on 40 samples one at a time"), "\(report.statement): \(text)")
            XCTAssertTrue(text.contains("would need") && text.contains("Loom allows"), text)
            loom.session.memoryLimit = 4096 << 20
        }
    }

    /// Everything a cell shows, or its error.
    func shown(_ code: String) -> [String] {
        out = CapturedOutput()
        switch run(code) {
        case .ok(let bundle): return texts() + [bundle?.plainText ?? ""]
        case .error(let e): return ["error: \(e.value)"]
        }
    }

    /// Inference whose batch of 256 does not fit runs in smaller batches that
    /// do, and shows what it shows with all the memory it wants.
    func testInferenceRunsInBatchesThatFitWithTheSameResults() throws {
        guard case .ok = run(wideConvolution + "\ntrain m on g epochs 1 batch 4") else { return XCTFail("\(texts())") }
        guard case .object(let state as ModelState)? = loom.session["m"] else { return XCTFail("no model m") }
        XCTAssertGreaterThan(state.model.inferenceBytes(samples: 256), 64 << 20, "256 at a time would not fit")
        let statements = ["evaluate m on g", "predict m on g first 5 mistakes", "predict m on g first 3"]
        let small = statements.map(shown)
        for (statement, result) in zip(statements, small) {
            XCTAssertFalse(result.joined().contains("error:"), "\(statement): \(result)")
        }
        XCTAssertTrue(small[0].joined().contains("samples") && small[0].joined().contains("300"), "\(small[0])")
        guard case .ok = run("set memory 4096") else { return XCTFail() }
        XCTAssertEqual(statements.map(shown), small)
        // Validation after each epoch runs in batches that fit beside the training batch's.
        run("set memory 64")
        guard case .ok = run("train m on g epochs 1 batch 4 validate g") else { return XCTFail("\(texts())") }
    }

    /// Only a single sample that does not fit is refused: 512 filters over
    /// 64×64 pixels keep more than 16 MiB for one sample.
    func testASingleSampleThatCannotFitIsRefused() {
        guard case .ok = run("set memory 16\ndata g = glyphs n 3 size 64\nmodel w {\n  input 64x64x1\n  conv2d 512 3x3\n"
                             + "  globalpool avg\n  dense 10 softmax\n}") else { return XCTFail("\(texts())") }
        let text = refusal("evaluate w on g")
        XCTAssertTrue(text.hasPrefix("running `w` on 3 samples one at a time would need"), text)
        XCTAssertTrue(text.contains("16 MiB Loom allows"), text)
    }

    /// A hashed line asks for its real weights and bias at 16 bytes each and
    /// its codes and virtual matrix at 8 bytes a virtual weight: 1,500 inputs
    /// to 1,000 units (1.5 million virtual weights, 12 MB) fit in 16 MiB,
    /// to 3,000 units (36 MB) do not.
    func testAHashedLineAsksForItsCodesAndVirtualMatrix() {
        guard case .ok = run("set memory 16\nmodel h {\n  input 1500\n  dense 1000 relu hashed 1000\n}") else {
            return XCTFail("\(texts())")
        }
        run("delete h")
        let text = refusal("model h {\n  input 1500\n  dense 3000 relu hashed 1000\n}")
        XCTAssertTrue(text.hasPrefix("`dense` (4,000 weights) would need 34 MiB, more than the 16 MiB"), text)
    }

    /// 10,000 one-value atoms: reading them needs no Gram matrix (400 MB);
    /// coding one sample over them asks for it, and is refused.
    func testTheGramMatrixIsCountedAndNeverMadeOnLoad() throws {
        let atoms = NSTemporaryDirectory() + "loom-ones-\(getpid()).npy", sample = atoms + ".sample.npy"
        defer { unlink(atoms); unlink(sample) }
        try Self.npy([Float](repeating: 1, count: 10_000), shape: "(10000, 1)").write(to: URL(fileURLWithPath: atoms))
        try Self.npy([2], shape: "(1, 1)").write(to: URL(fileURLWithPath: sample))
        run("set memory 64")
        guard case .ok = run("dictionary d = npy \"\(atoms)\"\ndata x = npy \"\(sample)\"") else { return XCTFail("\(texts())") }
        let text = refusal("codes c = encode x with d omp sparsity 1")
        XCTAssertTrue(text.hasPrefix("1 codes over 10,000 atoms with their Gram matrix would need 38"), text)
        XCTAssertNil(loom.session["c"])
    }

    func testStringsStopGrowingAtTheLimit() {
        run("set memory 64\ns = \"0123456789abcdef\"")
        var doublings = 0
        while case .ok = run("s = s + s") { doublings += 1; if doublings == 24 { break } }
        XCTAssertEqual(doublings, 21, "16 B doubled 21 times is 32 MiB; 64 MiB is refused")
        XCTAssertTrue(refusal("s = s + s").hasPrefix("joining strings of 33,554,432 and 33,554,432 bytes would need 64 MiB"))
        XCTAssertTrue(refusal("t = s + \"0123456789abcdef\"").contains("and the session holds 32 MiB of the 64 MiB"))
        XCTAssertTrue(refusal("l = [s, s]").contains("counting the lists inside it each time they appear, would need 64 MiB"))
        XCTAssertEqual(value("s = \"short\"\ns"), "short")
    }

    /// A column added per row grows a table by its rows each time: counted,
    /// empty cells too, and refused at the limit.
    func testTablesAreCountedEmptyCellsIncluded() {
        run("set memory 16")
        var rows = 0
        while case .ok = run("record t c\(rows)=\(rows)") { rows += 1; if rows > 5000 { break } }
        let text = refusal("record t c\(rows)=1")
        XCTAssertTrue(text.hasPrefix("a row of `t` (\(rows) rows of \(rows) columns) would need"), text)
        XCTAssertTrue(text.contains("of the 16 MiB Loom allows"), text)
        // Quadratic growth: rows × columns slots reach 16 MiB well before 5,000 rows.
        XCTAssertGreaterThan(rows, 500)
        XCTAssertLessThan(rows, 1000)
        guard case .object(let table as SessionTable)? = loom.session["t"] else { return XCTFail() }
        XCTAssertGreaterThanOrEqual(table.bytes, rows * rows * MemoryLayout<Value?>.stride)
        XCTAssertLessThanOrEqual(table.bytes, 16 << 20)
    }

    static func npy(_ values: [Float], shape: String) -> Data {
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }\n"
        let n = header.utf8.count
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(n & 0xFF), UInt8(n >> 8)] + Array(header.utf8)
        for f in values { for k in 0..<4 { bytes.append(UInt8((f.bitPattern >> (8 * UInt32(k))) & 0xFF)) } }
        return Data(bytes)
    }
}
