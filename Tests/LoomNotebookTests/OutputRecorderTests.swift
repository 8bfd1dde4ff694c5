import LoomCore
import LoomLang
import LoomNotebook
import XCTest

/// How a headless run records streams: as the kernel sends them, one output
/// per run of writes to a stream.
final class OutputRecorderTests: XCTestCase {
    func outputs(of source: String) throws -> [JSON] {
        var nb = try Notebook(json: ["nbformat": 4, "nbformat_minor": 5, "metadata": [:], "cells": [
            ["cell_type": "code", "id": "c", "metadata": [:], "source": .string(source), "outputs": [], "execution_count": .null],
        ]])
        XCTAssertTrue(NotebookRunner(interpreter: LoomInterpreter()).run(&nb).isEmpty)
        return nb.cells[0]["outputs"]?.arrayValue ?? []
    }

    func testConsecutivePrintsAreOneStreamOutputUntilAnotherOutput() throws {
        let out = try outputs(of: "print 1\nfor i in 2 3 {\n  print i\n}\nhelp conv2d\nprint 4\nprint 5")
        XCTAssertEqual(out.map { $0["output_type"]?.stringValue }, ["stream", "display_data", "stream"])
        XCTAssertEqual(out[0]["text"], "1\n2\n3\n")
        XCTAssertEqual(out[2]["text"], "4\n5\n")
    }

    func testAHundredThousandPrintsAreOneOutput() throws {
        let digits = "0 1 2 3 4 5 6 7 8 9"
        let loops = (0..<5).map { "for i\($0) in \(digits) {\n" }.joined() + "print i0\n" + String(repeating: "}\n", count: 5)
        let out = try outputs(of: loops)
        XCTAssertEqual(out.count, 1)
        let text = out.first?["text"]?.stringValue ?? ""
        XCTAssertEqual(text.utf8.count, 200_000)
        XCTAssertTrue(text.hasPrefix("0\n0\n") && text.hasSuffix("9\n9\n"))
    }
}
