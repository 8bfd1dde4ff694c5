import LoomCore
import LoomLang
import Foundation
import XCTest

final class InterpreterTests: LoomTestCase {
    func testVariablesPersistAcrossCells() {
        run("epochs = 5")
        XCTAssertEqual(value("epochs * 2"), "10")
        XCTAssertEqual(value("(epochs + 1) / 4"), "1.5")
        XCTAssertEqual(value("0.1 + 0.2"), "0.3")
        XCTAssertEqual(value("-epochs"), "-5")
    }

    func testOnlyAFinalBareExpressionIsTheResult() {
        guard case .ok(let result) = run("x = 1\nx\ny = 2") else { return XCTFail("the cell failed") }
        XCTAssertNil(result, "a bare expression before the last statement is not the result")
        XCTAssertEqual(value("x = 1\nx + 1"), "2")
    }

    func testPrintAndWarn() {
        run("n = 3\nprint \"n is\" n\nwarn \"careful\"")
        XCTAssertEqual(out.stdout, "n is 3\n")
        XCTAssertEqual(out.streams.last?.0, .stderr)
        XCTAssertEqual(out.streams.last?.1, "careful\n")
    }

    func testStringConcatenationAndTypeErrors() {
        XCTAssertEqual(value("\"a\" + 1"), "a1")
        XCTAssertEqual(error("28x28 * 2")?.name, "TypeError")
    }

    func testFailedStatementStopsTheCellButKeepsEarlierNames() {
        let e = error("a = 1\nb = a / 0\nc = 3")
        XCTAssertEqual(e?.name, "ValueError")
        XCTAssertEqual(e?.traceback[1], "  --> line 2, column 5")
        XCTAssertEqual(value("a"), "1")
        XCTAssertEqual(error("c")?.name, "NameError")
    }

    func testUnknownNameSuggestsAKnownOne() {
        run("epochs = 5")
        XCTAssertEqual(error("epohcs + 1")?.value, "unknown name `epohcs`; did you mean `epochs`?")
    }

    func testASyntaxErrorRunsNothing() {
        XCTAssertEqual(error("x = 1\nx = = 2")?.name, "SyntaxError")
        XCTAssertEqual(error("x")?.name, "NameError")
    }

    func testDeleteResetAndList() {
        run("a = 1\nb = \"two\"")
        run("list")
        XCTAssertTrue(out.displays.last?.plainText?.contains("two") ?? false)
        XCTAssertNotNil(out.displays.last?["text/html"])
        run("delete a")
        XCTAssertEqual(error("a")?.name, "NameError")
        XCTAssertEqual(error("delete zz")?.name, "NameError")
        run("reset")
        XCTAssertEqual(error("b")?.name, "NameError")
    }

    func testSetChecksItsValues() {
        run("set width 100")
        XCTAssertEqual(loom.session.width, 100)
        XCTAssertEqual(error("set width 5")?.name, "ValueError")
        XCTAssertEqual(error("set width 2.5")?.name, "TypeError")
        run("set plots svg")
        XCTAssertEqual(loom.session.plotStyle, .svg)
        XCTAssertEqual(error("set plots png")?.name, "SyntaxError")
    }

    func testHelpListsAndExplains() {
        run("help")
        XCTAssertTrue(out.displays[0].plainText?.contains("conv2d") ?? false)
        run("help conv2d")
        XCTAssertTrue(out.displays[1].plainText?.hasPrefix("conv2d N DIMS") ?? false)
        run("help epochs")
        XCTAssertTrue(out.displays[2].plainText?.contains("train") ?? false)
        XCTAssertEqual(error("help trian")?.value, "no help for `trian`; did you mean `train`?")
    }

    func testAQuestionMarkPagesHelp() {
        for code in ["?conv2d", "conv2d?", "  ? conv2d \n"] {
            XCTAssertEqual(run(code), .ok(nil), code)
            XCTAssertTrue(out.pages.last?.plainText?.hasPrefix("conv2d N DIMS") ?? false, code)
            XCTAssertEqual(loom.isComplete(code), .complete, code)
        }
        run("?")
        XCTAssertTrue(out.pages.last?.plainText?.contains("Loom statements and layers") ?? false)
        XCTAssertEqual(out.pages.count, 4)
        XCTAssertTrue(out.displays.isEmpty)  // paged, not shown
        let wrong = error("\n ?trian")
        XCTAssertEqual(wrong?.value, "no help for `trian`; did you mean `train`?")
        XCTAssertTrue(wrong?.traceback.joined(separator: "\n").contains("line 2, column 3") ?? false, "\(wrong?.traceback ?? [])")
        // Not help requests: a question mark elsewhere is still a syntax error.
        XCTAssertEqual(error("x = 3 ?")?.name, "SyntaxError")
    }

    func testSleepIsInterruptible() {
        let started = ContinuousClock.now
        let flagger = Thread { Thread.sleep(forTimeInterval: 0.1); interruptFlag.store(true, ordering: .relaxed) }
        flagger.start()
        XCTAssertEqual(error("sleep 20")?.name, "Interrupted")
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(5))
        XCTAssertEqual(value("1"), "1")  // the flag is cleared for the next cell
    }

    func testClearAsksToClearOutput() {
        run("clear")
        XCTAssertEqual(out.clears, 1)
    }

    func testUserExpressions() {
        run("n = 4")
        guard case .ok(let b) = loom.evaluate(expression: "n * n") else { return XCTFail() }
        XCTAssertEqual(b?.plainText, "16")
        guard case .error(let e) = loom.evaluate(expression: "n n") else { return XCTFail() }
        XCTAssertEqual(e.name, "SyntaxError")
    }

    func testCompletion() {
        XCTAssertEqual(loom.complete("pri", cursor: 3).matches, ["print"])
        XCTAssertEqual(loom.complete("show fil", cursor: 8).matches, ["filters"])
        XCTAssertEqual(loom.complete("model m {\n  den", cursor: 15).matches, ["dense"])
        XCTAssertEqual(loom.complete("train m on d optimizer r", cursor: 24).matches, ["rmsprop"])
        XCTAssertEqual(loom.complete("data d = g", cursor: 10).matches, ["glyphs"])
        run("epochs = 3")
        let c = loom.complete("x = ep", cursor: 6)
        XCTAssertEqual(c.matches, ["epochs"])
        XCTAssertEqual(c.cursorStart, 4)
    }

    func testIsComplete() {
        XCTAssertEqual(loom.isComplete("model m {"), .incomplete(indent: "  "))
        XCTAssertEqual(loom.isComplete("x = 1 +"), .incomplete(indent: ""))
        XCTAssertEqual(loom.isComplete("x = 1"), .complete)
        XCTAssertEqual(loom.isComplete("}"), .invalid)
        XCTAssertEqual(loom.isComplete("print \"a"), .invalid)
    }

    func testInspection() {
        XCTAssertTrue(loom.inspect("show filters cnn.conv1", cursor: 8, detailLevel: 0)?.plainText?
            .hasPrefix("show filters M.LAYER") ?? false)
        XCTAssertNil(loom.inspect("   ", cursor: 1, detailLevel: 0))
        run("k = 7")
        XCTAssertEqual(loom.inspect("k", cursor: 1, detailLevel: 0)?.plainText, "k: number = 7")
    }
}

final class PlotWiringTests: XCTestCase {
    func testHelpPlotsFollowsTheSessionSettings() {
        func figures(_ loom: LoomInterpreter, _ code: String) -> [String?] {
            let out = CapturedOutput()
            _ = loom.execute(code, output: out)
            XCTAssertGreaterThan(out.displays.count, 8)
            return out.displays.map { $0["image/svg+xml"] }
        }
        // `auto`: figures for a notebook, text alone for a terminal; `text` and `svg` hold anywhere.
        XCTAssertTrue(figures(LoomInterpreter(frontEnd: .notebook), "help plots").contains { $0 != nil })
        XCTAssertTrue(figures(LoomInterpreter(frontEnd: .notebook), "set plots text\nhelp plots").allSatisfy { $0 == nil })
        XCTAssertTrue(figures(LoomInterpreter(frontEnd: .terminal), "help plots").allSatisfy { $0 == nil })
        XCTAssertTrue(figures(LoomInterpreter(frontEnd: .terminal), "set plots svg\nhelp plots").contains { $0 != nil })
        let loom = LoomInterpreter(frontEnd: .terminal)
        let svgOut = CapturedOutput()
        _ = loom.execute("set plots svg\nset width 50\nhelp plots", output: svgOut)
        XCTAssertTrue(svgOut.displays.contains { $0["image/svg+xml"]?.hasPrefix("<svg") ?? false })
        let heatmap = svgOut.displays.first { $0.plainText?.hasPrefix("Heatmap") ?? false }?.plainText ?? ""
        XCTAssertTrue(heatmap.split(separator: "\n").allSatisfy { $0.count <= 50 }, heatmap)
    }
}

extension InterpreterTests {
    /// A suggestion is never the word itself; a form's second word gets its help.
    func testHelpAndSuggestionsNeverRepeatTheWord() {
        guard case .ok = run("help csv") else { return XCTFail("\(error("help csv")!)") }
        XCTAssertTrue(out.displays.last?.plainText?.hasPrefix("data NAME = csv PATH") ?? false)
        XCTAssertEqual(error("x = 1 + evaluate")?.value,
                       "`evaluate` is a statement, not a value: it goes at the start of a line (`help evaluate`)")
        // `x = evaluate …` keeps a result, and says what it lacks.
        XCTAssertEqual(error("x = evaluate")?.value, "`evaluate` needs MODEL: evaluate NAME on DATA [target inputs] [noise P%]")
        XCTAssertEqual(error("x = lstm + 1")?.name, "NameError")
        run("epochs = 3")
        XCTAssertEqual(error("epoch + 1")?.value, "unknown name `epoch`; did you mean `epochs`?")
        XCTAssertNil(error("help nonsense")?.value.range(of: "did you mean `nonsense`"))
    }
}

extension InterpreterTests {
    /// Making a large data set stops soon after an interrupt, keeping what was defined before.
    func testMakingAGlyphsDataSetCanBeInterrupted() {
        run("kept = 1")
        let started = ContinuousClock.now
        let flagger = Thread { Thread.sleep(forTimeInterval: 0.05); interruptFlag.store(true, ordering: .relaxed) }
        flagger.start()
        XCTAssertEqual(error("data big = glyphs n 200000 size 28")?.name, "Interrupted")
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(3))
        XCTAssertEqual(error("big")?.name, "NameError")
        XCTAssertEqual(value("kept"), "1")
    }
}
