import Foundation
import LoomCore
import LoomLang
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The engine statements, on small data so the suite stays fast.
final class ModelStatementTests: LoomTestCase {
    let small = """
        seed 3
        data g = glyphs n 300 size 12
        split g train 0.8
        model m {
          input 12x12x1
          conv2d 4 3x3 relu
          maxpool 2
          flatten
          dense 10 softmax
        }
        """

    func testTheSmallPipelineTrainsEvaluatesAndReports() {
        guard case .ok = run(small) else { return XCTFail("\(error(small)!)") }
        XCTAssertTrue(texts().contains { $0.contains("g.train") && $0.contains("240") })
        guard case .ok = run("train m on g.train epochs 8 batch 16 lr 0.01 validate g.test\nevaluate m on g.test") else {
            return XCTFail("training failed")
        }
        let all = texts().joined(separator: "\n")
        XCTAssertTrue(all.contains("val accuracy"))
        XCTAssertTrue(all.contains("loss by epoch"))
        XCTAssertTrue(all.contains("confusion matrix"))
        XCTAssertNotNil(out.displays.first { $0.plainText?.hasPrefix("epoch") ?? false })
        // It learned: ten classes, so chance is 10%.
        let accuracy = texts().first { $0.contains("m on g.test") }?.split(separator: "\n")
            .first { $0.contains("accuracy") }?.split(separator: " ").compactMap { Double($0.dropLast()) }.last
        XCTAssertGreaterThan(accuracy ?? 0, 80, all)
        let count = out.displays.count
        guard case .ok = run("show filters m.conv1\nshow weights m.dense1\nshow histogram m.conv1\nshow sparsity m on g.test\n"
                             + "predict m on g.test first 3") else { return XCTFail("the reports failed") }
        XCTAssertEqual(out.displays.count, count + 6, "one display per report, two for show sparsity (its table and bars)")
        let reports = texts().joined(separator: "\n")
        XCTAssertTrue(reports.contains("conv1: 4 filters of 3x3"))
        XCTAssertTrue(reports.contains("dense1 weights, 100x10"))
        XCTAssertTrue(reports.contains("zero act."))
        XCTAssertTrue(reports.contains("confidence"))
    }

    func testSummaryReportsWhatSharingSaves() {
        run("model c {\n  input 28x28x1\n  conv2d 32 3x3 relu\n}")
        let summary = texts().last ?? ""
        // 26·26 positions × (3·3·1·32 + 32) = 216,320 unshared against 320 stored: 676×.
        XCTAssertTrue(summary.contains("216,320"), summary)
        XCTAssertTrue(summary.contains("676×"), summary)
        // Fully connected from 784 inputs to 21,632 outputs, with biases.
        XCTAssertTrue(summary.contains(NumberFormatCheck.grouped(784 * 21_632 + 21_632)), summary)
    }

    func testSameSeedGivesTheSameModelAndData() {
        func losses() -> String {
            let l = LoomInterpreter(), o = CapturedOutput()
            _ = l.execute(small + "\ntrain m on g.train epochs 1", output: o)
            return o.displays.compactMap(\.plainText).first { $0.hasPrefix("training") } ?? ""
        }
        let a = losses(), b = losses()
        XCTAssertFalse(a.isEmpty)
        XCTAssertEqual(a.split(separator: "\n").map { $0.prefix(30) }, b.split(separator: "\n").map { $0.prefix(30) })
    }

    func testLayerThatDoesNotFitNamesTheLayer() {
        let e = error("model bad {\n  input 28x28x1\n  conv2d 8 3x3\n  dense 10 softmax\n}")
        XCTAssertEqual(e?.name, "ValueError")
        XCTAssertTrue(e?.value.contains("add `flatten`") ?? false, e?.value ?? "")
        XCTAssertEqual(e?.traceback[1], "  --> line 4, column 3")
        XCTAssertEqual(error("model m2 {\n  dense 3\n}")?.value, "a model starts with `input DIMS`, the shape of one sample")
    }

    func testTrainingChecksItsInputs() {
        run(small)
        XCTAssertTrue(error("train m on g.train epochs 0")?.value.contains("between 1 and") ?? false)
        run("data big = glyphs n 20 size 14")
        XCTAssertTrue(error("train m on big")?.value.contains("12x12x1") ?? false)
        XCTAssertEqual(error("train nope on g.train")?.name, "NameError")
        XCTAssertTrue(error("train g on g.train")?.value.contains("not a model") ?? false)
        run("model lin {\n  input 12x12x1\n  flatten\n  dense 10\n}")
        XCTAssertTrue(error("train lin on g.train")?.value.contains("softmax") ?? false)
    }

    func testMemoryLimitRefusesBeforeAllocating() {
        run("set memory 16")
        XCTAssertTrue(error("data huge = glyphs n 100000 size 28")?.value.contains("more than the 16 MiB") ?? false)
        XCTAssertTrue(error("model wide {\n  input 4096\n  dense 4096\n}")?.value.contains("MiB") ?? false)
    }

    /// `set memory` bounds what the session holds in all, not each object:
    /// ten data sets that each fit do not all fit; replacing a name frees its
    /// old object; `list` shows each name's memory and the total.
    func testTheMemoryLimitIsForTheWholeSession() {
        run("set memory 64")
        for name in ["a", "b", "a"] {
            guard case .ok = run("data \(name) = glyphs n 8000 size 28") else { return XCTFail("\(name) should fit") }
        }
        let refused = error("data c = glyphs n 8000 size 28")?.value ?? ""
        XCTAssertTrue(refused.contains("the session holds 48 MiB of the 64 MiB"), refused)
        XCTAssertTrue(error("model m {\n  input 28x28x1\n  flatten\n  dense 2048\n}")?.value.contains("the session holds") ?? false)
        run("delete b")
        guard case .ok = run("data c = glyphs n 8000 size 28") else { return XCTFail("deleting b frees its memory") }
        run("list")
        let listing = out.displays.last?.plainText ?? ""
        XCTAssertTrue(listing.contains("24 MiB") && listing.contains("48 MiB"), listing)
        XCTAssertTrue(listing.contains("held, of the 64 MiB allowed"), listing)
    }

    func testHugeLayersAreRefusedBeforeAllocating() {
        // Found by the fuzzer: these once asked the allocator for terabytes.
        XCTAssertEqual(error("model a {\n  input 99999999999\n  dense 99999\n}")?.name, "TypeError")
        XCTAssertTrue(error("model b {\n  input 99999x99999x99999x99999\n}")?.value.contains("too large") ?? false)
        XCTAssertTrue(error("model c {\n  input 100000\n  dense 1000000\n}")?.value.contains("Loom allows") ?? false)
        XCTAssertTrue(error("model d {\n  input 8x8x65536\n  conv2d 65536 3x3\n}")?.value.contains("Loom allows") ?? false)
    }

    func testInterruptedTrainingKeepsTheModelAndSaysSo() {
        run(small)
        let stopper = Thread { Thread.sleep(forTimeInterval: 0.05); interruptFlag.store(true, ordering: .relaxed) }
        stopper.start()
        let e = error("train m on g.train epochs 100000 batch 1")
        XCTAssertEqual(e?.name, "Interrupted")
        XCTAssertTrue(e?.value.contains("keeps the weights of its last finished step") ?? false)
        guard case .ok = run("evaluate m on g.test") else { return XCTFail("model unusable after an interrupt") }
    }

    /// An interrupt reaches a file load (the read and the CSV parse) and
    /// defines nothing.
    func testAnInterruptStopsALargeFileLoad() throws {
        let path = "/tmp/loom-interrupt-\(getpid()).csv"
        defer { unlink(path) }
        let row = (0..<64).map { String($0 * 3) }.joined(separator: ",") + ",1\n"
        try Files.writeAtomically(Array(String(repeating: row, count: 1_000_000).utf8), to: path)  // 220 MB, 1.2 s to load whole
        let stopper = Thread { Thread.sleep(forTimeInterval: 0.05); interruptFlag.store(true, ordering: .relaxed) }
        stopper.start()
        let e = error("data big = csv \"\(path)\"")
        XCTAssertEqual(e?.name, "Interrupted")
        XCTAssertTrue(e?.value.contains("nothing was defined") ?? false, e?.value ?? "")
        XCTAssertNil(loom.session["big"])
    }

    func testBareNamesDescribeDataAndModels() {
        run(small)
        guard case .ok(let b) = run("g.test") else { return XCTFail() }
        XCTAssertEqual(b?.plainText, "g.test: data, 60 samples of 12x12x1, 10 classes")
        XCTAssertEqual(error("g.test + 1")?.name, "TypeError")
    }
}

enum NumberFormatCheck {
    static func grouped(_ n: Int) -> String {
        let digits = Array(String(n))
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(c)
        }
        return out
    }
}

final class DataStatementTests: XCTestCase {
    func testCSVThroughTheLanguageAndItsErrors() throws {
        let path = "/tmp/loom-data-\(getpid()).csv"
        defer { unlink(path) }
        try "x1,x2,y\n0.1,0.2,1\n0.3,0.4,0\n".write(toFile: path, atomically: true, encoding: .utf8)
        let loom = LoomInterpreter(), out = CapturedOutput()
        guard case .ok = loom.execute("data d = csv \"\(path)\" label last\nd", output: out) else { return XCTFail() }
        guard case .ok(let b) = loom.execute("d", output: out) else { return XCTFail() }
        XCTAssertEqual(b?.plainText, "d: data, 2 samples of 2, 2 classes")
        guard case .error(let e) = loom.execute("data e = csv \"\(path)\" shape 3x3", output: out) else { return XCTFail() }
        XCTAssertTrue(e.value.contains("do not make a 3x3 sample"), e.value)
        // A shape whose size overflows is an error at the statement, not a trap.
        guard case .error(let huge) = loom.execute("x = 1\ndata h = csv \"\(path)\" shape 9999999999x9999999999", output: out) else {
            return XCTFail()
        }
        XCTAssertTrue(huge.value.contains("more values than any file holds"), huge.value)
        XCTAssertEqual(huge.traceback[1], "  --> line 2, column 1")
        guard case .error(let missing) = loom.execute("data f = csv \"/nonexistent.csv\"", output: out) else { return XCTFail() }
        XCTAssertEqual(missing.name, "IOError")
    }
}

final class SaveLoadTests: LoomTestCase {
    let model = "seed 1\nmodel m {\n  input 4\n  dense 3 relu\n  dense 2 softmax\n}"

    func path(_ name: String) -> String { "/tmp/loom-\(getpid())-\(name).safetensors" }

    func testLoadRebuildsTheModelWithItsWeights() throws {
        run(model + "\nsave m \"\(path("a"))\"")
        defer { unlink(path("a")) }
        guard case .ok = run("load n \"\(path("a"))\"") else { return XCTFail("\(error("load n \"\(path("a"))\"")!)") }
        run("show weights m.dense1")
        let original = texts().last
        run("show weights n.dense1")
        XCTAssertEqual(texts().last, original)
    }

    /// A file missing a tensor, or with one of the wrong shape, leaves the
    /// name bound to what it held before, not to a model with random weights.
    func testAFileThatDoesNotFitLeavesTheNameAsItWas() throws {
        run(model + "\nsave m \"\(path("b"))\"")
        defer { unlink(path("b")) }
        let bytes = try XCTUnwrap(FileManager.default.contents(atPath: path("b")))
        // The same file with the tensor `dense2.bias` renamed `dense2.bxas`: every length stays the same.
        var damaged = [UInt8](bytes)
        let needle = Array("dense2.bias".utf8)
        let at = try XCTUnwrap((0...(damaged.count - needle.count)).first { Array(damaged[$0..<($0 + needle.count)]) == needle })
        damaged[at + 8] = UInt8(ascii: "x")
        FileManager.default.createFile(atPath: path("c"), contents: Data(damaged))
        defer { unlink(path("c")) }
        run("x = 42")
        XCTAssertEqual(error("load x \"\(path("c"))\"")?.value, "\(path("c")) has no tensor dense2.bias")
        XCTAssertEqual(value("x"), "42")
        run("model y {\n  input 4\n  dense 1 relu\n}")
        XCTAssertNotNil(error("load y \"\(path("c"))\""))
        XCTAssertEqual(value("y"), "y: model, 1 layers, 5 parameters")
    }
}

extension SaveLoadTests {
    func testADataSetIsSavedAndLoadedLikeAModel() throws {
        run("seed 2\ndata g = glyphs n 12 size 8\nsave g \"\(path("d"))\"")
        defer { unlink(path("d")) }
        XCTAssertEqual(out.displays.last?.plainText, "Saved 12 samples of 8x8x1 to \(path("d"))")
        guard case .ok = run("load h \"\(path("d"))\"") else { return XCTFail("\(error("load h \"\(path("d"))\"")!)") }
        XCTAssertEqual(value("h"), "h: data, 12 samples of 8x8x1, 10 classes")
        run("list")
        XCTAssertTrue(texts().last?.contains("12 samples of 8x8x1, 10 classes") ?? false)
        // The same images: a model predicts the same on both.
        run("model m {\n  input 8x8x1\n  flatten\n  dense 10 softmax\n}\npredict m on g first 12")
        let onG = texts().last
        run("predict m on h first 12")
        XCTAssertEqual(texts().last, onG)
    }

    func testValuesAreNotSaved() {
        run("x = 3")
        XCTAssertEqual(error("save x \"\(path("v"))\"")?.value, "`x` is a number; `save` writes models, data sets, dictionaries and results tables")
        XCTAssertEqual(error("train x on x")?.value, "`x` is a number, not a model")
    }
}

/// Real-valued targets through the language: `npy … targets`, `loss mse`,
/// and the reports that follow the target.
final class RegressionTests: LoomTestCase {
    func npy(_ values: [Float], shape: String) -> Data {
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }\n"
        let n = header.utf8.count
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8)
        bytes += [1, 0, UInt8(n & 0xFF), UInt8(n >> 8)]
        bytes += Array(header.utf8)
        for f in values { for k in 0..<4 { bytes.append(UInt8((f.bitPattern >> (8 * UInt32(k))) & 0xFF)) } }
        return Data(bytes)
    }

    func file(_ name: String) -> String { "/tmp/loom-\(getpid())-\(name).npy" }

    override func setUp() {
        super.setUp()
        let x = (0..<200).map { Float($0 % 50) / 25 - 1 }
        FileManager.default.createFile(atPath: file("x"), contents: npy(x, shape: "(100, 2)"))
        // y = x0 − 2·x1 + 0.5
        let y = (0..<100).map { (i: Int) -> Float in 0.5 + x[2 * i] - 2 * x[2 * i + 1] }
        FileManager.default.createFile(atPath: file("y"), contents: npy(y, shape: "(100,)"))
    }

    override func tearDown() {
        unlink(file("x"))
        unlink(file("y"))
    }

    func testTrainEvaluateAndPredictFollowRealValuedTargets() {
        let load = "seed 4\ndata r = npy \"\(file("x"))\" targets \"\(file("y"))\"\nsplit r train 0.8"
        guard case .ok = run(load) else { return XCTFail("\(error(load)!)") }
        XCTAssertEqual(value("r.train"), "r.train: data, 80 samples of 2, targets of 1")
        run("model m {\n  input 2\n  dense 1 linear\n}")
        XCTAssertEqual(error("train m on r.train")?.value,
                       "crossentropy needs probabilities: end `m` with a softmax layer, or use `loss mse`")
        guard case .ok = run("train m on r.train epochs 40 batch 8 loss mse lr 0.05 validate r.test") else {
            return XCTFail("\(error("train m on r.train epochs 1 loss mse")!)")
        }
        let history = texts().first { $0.hasPrefix("training") } ?? ""
        XCTAssertTrue(history.contains("mae") && history.contains("val mae"), history)
        XCTAssertFalse(history.contains("accuracy"), history)
        guard case .ok = run("evaluate m on r.test") else { return XCTFail() }
        let report = texts().last ?? ""
        XCTAssertTrue(report.contains("mean squared error") && report.contains("mean absolute error"), report)
        XCTAssertFalse(report.contains("accuracy"), report)
        let mae = report.split(separator: "\n").first { $0.contains("mean absolute error") }?
            .split(separator: " ").compactMap { Double($0) }.last
        XCTAssertLessThan(mae ?? 1, 0.05, report)
        guard case .ok = run("predict m on r.test first 5") else { return XCTFail() }
        XCTAssertTrue(texts().contains { $0.contains("predicted and true values") })
    }

    func testTargetsMustFitTheModelAndUnlabelledDataCannotTrain() {
        run("data r = npy \"\(file("x"))\" targets \"\(file("y"))\"\nmodel wide {\n  input 2\n  dense 3 linear\n}")
        XCTAssertEqual(error("train wide on r loss mse")?.value,
                       "`wide` gives 3 outputs but the data's targets are 1; end the model with `dense 1 linear`")
        run("data u = npy \"\(file("x"))\"")
        XCTAssertEqual(value("u"), "u: data, 100 samples of 2, no targets")
        XCTAssertEqual(error("train wide on u loss mse")?.value,
                       "the data has no targets (class labels or values) to compare the model's outputs with")
        XCTAssertEqual(error("data b = npy \"\(file("x"))\" labels \"\(file("y"))\" targets \"\(file("y"))\"")?.value,
                       "give `labels` (classes) or `targets` (values), not both")
    }

    func testADataSetWithValueTargetsIsSavedAndLoaded() {
        let path = "/tmp/loom-\(getpid())-r.safetensors"
        defer { unlink(path) }
        run("data r = npy \"\(file("x"))\" targets \"\(file("y"))\"\nsave r \"\(path)\"\nload s \"\(path)\"")
        XCTAssertEqual(value("s"), "s: data, 100 samples of 2, targets of 1")
    }
}

extension ModelStatementTests {
    func testLearningRatesAFloatCannotHoldAndDivergenceAreErrors() {
        run(small)
        XCTAssertEqual(error("train m on g.train lr 1e300")?.value, "lr must be above 0 and at most 3.4e+38, not 1e+300")
        XCTAssertEqual(error("train m on g.train lr 0")?.value, "lr must be above 0 and at most 3.4e+38, not 0")
        let e = error("train m on g.train epochs 3 optimizer sgd lr 1e30 loss mse")
        XCTAssertTrue(e?.value.hasPrefix("training stopped at epoch 1") ?? false, e?.value ?? "")
        guard case .ok = run("evaluate m on g.test") else { return XCTFail("the model is unusable") }
        // The update that made the loss infinite was not applied: every weight is a number.
        guard case .ok = run("show histogram m.dense1\nshow histogram m.conv1") else { return XCTFail() }
        XCTAssertFalse(texts().suffix(2).contains { $0.contains("not binned") }, texts().suffix(2).joined())
    }
}

extension DataStatementTests {
    /// Files are checked before they are read: no FIFO blocks, no device
    /// reads until memory runs out, no file larger than the limit is loaded.
    func testOnlyRegularFilesWithinTheLimitAreRead() throws {
        let loom = LoomInterpreter(), out = CapturedOutput()
        let fifo = "/tmp/loom-\(getpid()).fifo"
        mkfifo(fifo, 0o600)
        defer { unlink(fifo) }
        for path in [fifo, "/dev/zero", "/tmp"] {
            guard case .error(let e) = loom.execute("data c = csv \"\(path)\"", output: out) else { return XCTFail(path) }
            XCTAssertEqual(e.name, "IOError")
            XCTAssertTrue(e.value.contains("not a regular file"), e.value)
        }
        let big = "/tmp/loom-\(getpid())-big.csv"
        defer { unlink(big) }
        try String(repeating: "1,2,0\n", count: 4_000_000).write(toFile: big, atomically: true, encoding: .utf8)
        guard case .error(let e) = loom.execute("set memory 16\ndata c = csv \"\(big)\"", output: out) else { return XCTFail() }
        XCTAssertTrue(e.value.contains("22 MiB, more than the 16 MiB Loom allows"), e.value)
    }
}

extension SaveLoadTests {
    func testLoadSaysOneLine() {
        run(model + "\nsave m \"\(path("o"))\"")
        defer { unlink(path("o")) }
        let before = out.displays.count
        run("load n \"\(path("o"))\"")
        XCTAssertEqual(out.displays.count, before + 1)
        XCTAssertEqual(texts().last, "Loaded n from \(path("o")): 2 layers, 23 parameters")
    }
}
