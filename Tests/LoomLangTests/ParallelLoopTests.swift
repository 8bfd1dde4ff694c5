import LoomCore
import LoomLang
import XCTest

/// `for … parallel` in one process, and an iteration's result packed into
/// bytes and read back as the ranks exchange it.
final class ParallelLoopTests: LoomTestCase {
    func testAnIterationResultSurvivesItsBytes() {
        var result = IterationResult(index: 5)
        result.events = [.stream(.stderr, "warn é\n"), .display(MimeBundle(data: ["text/plain": "a table", "text/html": "<b>x</b>"],
                                                                            metadata: ["isolated": true])), .clear]
        result.rows = [HeldRow(table: "runs", values: [("k", .number(0.1)), ("share", .percent(0.25)), ("name", .string("wide, \"w\""))])]
        result.failure = LoomError(.value, "division by zero", at: SourceRange(line: 3, column: 7, start: 40, end: 43), suggestion: "kk")
        var packet = Packet()
        result.write(to: &packet)
        IterationResult(index: 6).write(to: &packet)
        var read = Packet(packet.bytes)
        let back = IterationResult(from: &read), second = IterationResult(from: &read)
        XCTAssertTrue(read.atEnd)
        XCTAssertEqual(back.index, 5)
        XCTAssertEqual(back.events, result.events)
        XCTAssertEqual(back.rows.map(\.table), ["runs"])
        XCTAssertEqual(back.rows[0].values.map(\.column), ["k", "share", "name"])
        XCTAssertEqual(back.rows[0].values.map(\.value), [.number(0.1), .percent(0.25), .string("wide, \"w\"")])
        XCTAssertEqual(back.failure, result.failure)
        XCTAssertEqual(second.index, 6)
        XCTAssertNil(second.failure)
        XCTAssertTrue(second.events.isEmpty && second.rows.isEmpty)
    }

    func testIterationsStartFromTheNamesBeforeTheLoopAndRowsComeInOrder() {
        run("x = 1")
        guard case .ok = run("for k in 1 2 3 parallel {\n  x = x + k\n  y = k\n  print x\n  record runs k=k x=x\n}") else {
            return XCTFail("\(String(describing: error("")))")
        }
        XCTAssertEqual(out.stdout, "2\n3\n4\n")
        XCTAssertEqual(value("x"), "1")
        XCTAssertNotNil(error("y"))
        XCTAssertEqual(value("runs.rows"), "3")
    }

    func testAnErrorStopsTheLoopAtItsIterationWithTheRowsBeforeIt() {
        let e = error("for k in 2 1 0 4 parallel {\n  record runs k=k r=1/k\n}")
        XCTAssertEqual(e?.name, "ValueError")
        XCTAssertTrue(e?.value.hasSuffix("(in the iteration `k = 0`)") ?? false, e?.value ?? "")
        XCTAssertEqual(value("runs.rows"), "2")
    }

    func testARecordOfAnotherKindIsRefusedInAParallelLoop() {
        let e = error("for k in 1 2 parallel {\n  record runs k=k s=[1, 2]\n}")
        XCTAssertEqual(e?.name, "TypeError")
        XCTAssertTrue(e?.value.contains("records numbers, percentages and strings") ?? false, e?.value ?? "")
    }

    /// `parallel` after the values, right before `{`, is the word; in
    /// parentheses, a value.
    func testAVariableNamedParallelIsAValueInParentheses() {
        run("parallel = 3")
        guard case .ok = run("for k in 1 (parallel) {\n  print k\n}") else { return XCTFail("\(String(describing: error("")))") }
        XCTAssertEqual(out.stdout, "1\n3\n")
    }
}
