import Foundation
import LoomCore
import LoomEngine
import LoomLang
import XCTest

/// Experiments in the language: results kept as values, facts of models
/// and data sets, and loops.
final class ExperimentTests: LoomTestCase {
    let setup = """
        seed 3
        data g = glyphs n 200 size 10
        split g train 0.8
        model m {
          input 10x10x1
          flatten
          dense 16 relu
          dense 10 softmax
        }
        """

    func testResultsAreKeptAsValues() {
        run(setup)
        XCTAssertEqual(value("h = train m on g.train epochs 2\nh.epochs"), "2")
        XCTAssertNotNil(Double(value("h.loss") ?? ""))
        XCTAssertTrue(value("h.accuracy")?.hasSuffix("%") ?? false)
        guard case .ok = run("r = evaluate m on g.test") else { return XCTFail("\(String(describing: error("")))") }
        let accuracy = value("r.accuracy")
        XCTAssertTrue(accuracy?.hasSuffix("%") ?? false)
        // Usable in arithmetic and as an option.
        let share = Double(value("1 - r.accuracy") ?? "")
        XCTAssertNotNil(share)
        XCTAssertEqual(value("r.samples"), "40")
        let zeros = value("s = show sparsity m on g.test\ns.weights") ?? ""
        XCTAssertLessThan(Double(zeros.dropLast()) ?? 100, 1, "a trained dense model has almost no zero weights")
        XCTAssertNotNil(value("s.activations"))
        // A bare result shows its tables again.
        out.displays = []
        guard case .ok(let shown) = run("r") else { return XCTFail() }
        XCTAssertTrue(texts().first?.contains("m on g.test") ?? false, "\(texts())")
        XCTAssertTrue(shown?.plainText?.contains("confusion matrix") ?? false)
        XCTAssertEqual(error("r.acuracy")?.value, "`r` (a result) has no `acuracy`; it has `loss`, `accuracy`, `samples`; did you mean `accuracy`?")
        XCTAssertEqual(error("x = print 1")?.name, "TypeError")
        XCTAssertTrue(error("x = summary m")?.value.contains("keeps the results of `train`, `evaluate`, `show sparsity`") ?? false)
        XCTAssertTrue(value("list")?.isEmpty ?? true)
        XCTAssertTrue(texts().last?.contains("result") ?? false)
    }

    func testModelsAndDataSetsExposeFacts() {
        run(setup)
        XCTAssertEqual(value("m.params"), "1786")
        XCTAssertEqual(value("g.samples"), "200")
        XCTAssertEqual(value("g.train.samples"), "160")
        XCTAssertEqual(value("g.classes"), "10")
        XCTAssertEqual(value("m.epochs"), "0")
        run("prune m 50%")
        let nonzero = Double(value("m.nonzero") ?? "") ?? 0
        XCTAssertEqual(nonzero, 893, accuracy: 30)
        XCTAssertTrue(error("m.size")?.value.contains("it has `params`, `nonzero`, `epochs`, `layers`") ?? false)
    }

    func testLoopsRunTheBodyOncePerValue() {
        XCTAssertEqual(value("total = 0\nfor x in 1 2 3 4 {\n  total = total + x\n}\ntotal"), "10")
        XCTAssertEqual(value("x"), "4", "the loop's name keeps the last value")
        // Nested loops, percentages and strings; a bare value in a body is shown.
        out.displays = []
        run("for a in 10% 20% {\n  for b in \"x\" \"y\" {\n    b + a\n  }\n}")
        XCTAssertEqual(texts(), ["x10%", "y10%", "x20%", "y20%"])
        // An error names the iteration, and points at the line in the body.
        let e = error("for d in 1 0 2 {\n  y = 1 / d\n}")
        XCTAssertEqual(e?.value, "division by zero (in the iteration `d = 0`)")
        XCTAssertEqual(e?.traceback[1], "  --> line 2, column 7")
        XCTAssertEqual(value("y"), "1", "iterations before the error kept their work")
        // Values are checked before the first iteration runs.
        XCTAssertEqual(error("n = 0\nfor v in 1 nope {\n  n = n + 1\n}")?.name, "NameError")
        XCTAssertEqual(value("n"), "0")
    }

    func testLoopSyntaxErrors() {
        XCTAssertEqual(error("for k in {\n}")?.value, "`for k in` needs values before `{`")
        XCTAssertEqual(error("for k 1 2 {\n}")?.value, "expected `in` after `for k`, found a number")
        XCTAssertTrue(error("for k in 1 2 {\n  print k")?.value.contains("not closed") ?? false)
        XCTAssertTrue(error("for train in 1 {\n}")?.value.contains("statement word") ?? false)
        let deep = String(repeating: "for i in 1 {\n", count: 300) + String(repeating: "}\n", count: 300)
        XCTAssertTrue(error(deep)?.value.contains("nested too deeply") ?? false)
        XCTAssertEqual(loom.isComplete("for k in 1 2 {\n  print k"), .incomplete(indent: "  "))
    }

    /// A sweep in a loop gives what separate runs with the same seeds give.
    func testASweepEqualsSeparateRuns() {
        let body = { (k: String) in """
            seed 5
            model w {
              input 10x10x1
              flatten
              dense 32 relu
              kwta \(k)
              dense 10 softmax
            }
            train w on g.train epochs 2
            r = evaluate w on g.test
            """ }
        run(setup)
        let separate = ["10%", "40%"].map { k -> String in
            run(body(k))
            return value("r.loss") ?? ""
        }
        var swept: [String] = []
        run("losses = \"\"\nfor k in 10% 40% {\n" + body("k") + "\n  losses = losses + r.loss + \" \"\n}")
        swept = (value("losses") ?? "").split(separator: " ").map(String.init)
        XCTAssertEqual(swept, separate)
    }

    /// A loop over model names trains each model itself, not a copy.
    func testALoopOverModelsUsesTheModels() {
        run(setup + "\nmodel n {\n  input 10x10x1\n  flatten\n  dense 10 softmax\n}")
        run("for net in m n {\n  train net on g.train epochs 1\n}")
        XCTAssertEqual(value("m.epochs"), "1")
        XCTAssertEqual(value("n.epochs"), "1")
    }

    func testAnInterruptStopsTheLoopBetweenIterations() {
        let stopper = Thread { Thread.sleep(forTimeInterval: 0.2); interruptFlag.store(true, ordering: .relaxed) }
        stopper.start()
        let e = error("count = 0\nfor i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 {\n  sleep 0.05\n  count = count + 1\n}")
        XCTAssertEqual(e?.name, "Interrupted")
        XCTAssertLessThan(Double(value("count") ?? "") ?? 20, 20)
    }
}

/// Results tables (`record`, `show table`, CSV) and `time`.
final class RecordTests: LoomTestCase {
    func testRecordBuildsATableRowByRow() throws {
        run("for k in 1 2 3 {\n  record runs k=k square=k*k name=\"k\" + k\n}\nrecord runs k=4 extra=10%")
        guard case .object(let table as SessionTable)? = loom.session["runs"] else { return XCTFail("no table") }
        XCTAssertEqual(table.columns, ["k", "square", "name", "extra"])
        XCTAssertEqual(table.rows.count, 4)
        XCTAssertNil(table.rows[0][3], "a column added later is empty in earlier rows")
        XCTAssertEqual(value("runs.rows"), "4")
        let shown = value("runs") ?? ""
        XCTAssertTrue(shown.contains("runs: 4 row(s)") && shown.contains("10%"), shown)
        let path = NSTemporaryDirectory() + "loom-runs-\(getpid()).csv"
        defer { try? FileManager.default.removeItem(atPath: path) }
        run("save runs \"\(path)\"")
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8),
                       "k,square,name,extra\n1,1,k1,\n2,4,k2,\n3,9,k3,\n4,,,0.1\n")
        // A plot of one column against another, a line per value of a third.
        guard case .ok = run("show table runs x k y square") else { return XCTFail() }
        XCTAssertTrue(texts().last?.contains("square against k") ?? false)
        let notNumbers = error("show table runs x k y name")
        XCTAssertTrue(notNumbers?.value.contains("not a number") ?? false, "\(String(describing: notNumbers))")
        XCTAssertEqual(error("show table runs x kk y square")?.value, "`runs` has no column `kk`; its columns: k, square, name, extra; did you mean `k`?")
        XCTAssertEqual(error("record runs a=1 a=2")?.value, "column `a` is given twice")
        XCTAssertTrue(error("record runs 5")?.value.contains("COLUMN=VALUE") ?? false)
        run("x = 3")
        XCTAssertEqual(error("record x a=1")?.value, "`x` is a number, not a results table")
    }

    func testTimeReportsTheWallClock() {
        run("time sleep 0.05")
        XCTAssertTrue(out.stdout.hasPrefix("time: "), out.stdout)
        let ms = Double(out.stdout.dropFirst(6).split(separator: " ").first ?? "") ?? 0
        XCTAssertGreaterThanOrEqual(ms, 50)
        out.streams = []
        XCTAssertEqual(value("time {\n  a = 2\n  b = a * 3\n}\nb"), "6")
        XCTAssertTrue(out.stdout.hasPrefix("time: "))
        // A failing statement is timed too, and its error still points at it.
        out.streams = []
        XCTAssertEqual(error("time y = 1 / 0")?.value, "division by zero")
        XCTAssertTrue(out.stdout.hasPrefix("time: "))
        XCTAssertEqual(error("time")?.name, "SyntaxError")
    }
}
