import LoomCore
import LoomLang
import LoomNotebook
import XCTest
#if canImport(Glibc)
import Glibc
#endif

final class NotebookTests: XCTestCase {
    func notebook(_ cells: [JSONObject], metadata: JSONObject = [:]) throws -> Notebook {
        try Notebook(json: ["nbformat": 4, "nbformat_minor": 5, "metadata": .object(metadata),
                            "cells": .array(cells.map(JSON.object))])
    }

    func code(_ source: JSON, tags: [String] = []) -> JSONObject {
        ["cell_type": "code", "id": "c", "metadata": tags.isEmpty ? [:] : ["tags": .array(tags.map(JSON.string))],
         "source": source, "outputs": [], "execution_count": .null]
    }

    func testRejectsOtherFormats() {
        XCTAssertThrowsError(try Notebook(json: ["nbformat": 3, "cells": []]))
        XCTAssertThrowsError(try Notebook(json: ["nbformat": 4]))
    }

    func testSourceMayBeAListOfLines() {
        XCTAssertEqual(Notebook.text(["a = 1\n", "a"]), "a = 1\na")
        XCTAssertEqual(Notebook.text("x"), "x")
        XCTAssertEqual(Notebook.text(nil), "")
    }

    func testRunsCellsInOrderWithCountsAndOutputs() throws {
        var nb = try notebook([code("x = 2"), code(["print x\n", "x * 3"]),
                               ["cell_type": "markdown", "metadata": [:], "source": "prose"]])
        let failures = NotebookRunner(interpreter: LoomInterpreter()).run(&nb)
        XCTAssertTrue(failures.isEmpty)
        let cells = nb.cells
        XCTAssertEqual(cells[0]["execution_count"], 1)
        XCTAssertEqual(cells[1]["execution_count"], 2)
        XCTAssertEqual(cells[1]["outputs"]?.arrayValue?.count, 2)
        XCTAssertEqual(cells[1]["outputs"]?.arrayValue?[0]["text"], "2\n")
        XCTAssertEqual(cells[1]["outputs"]?.arrayValue?[1]["data"]?["text/plain"], "6")
        XCTAssertEqual(cells[2]["source"], "prose")
        XCTAssertEqual(nb.metadata["kernelspec"]?["name"], "loom")
    }

    /// nbclient keeps no pager payloads; a headless run matches it.
    func testPagedHelpLeavesNoOutputButHelpDoes() throws {
        var nb = try notebook([code("?conv2d"), code("help conv2d")])
        XCTAssertTrue(NotebookRunner(interpreter: LoomInterpreter()).run(&nb).isEmpty)
        XCTAssertEqual(nb.cells[0]["outputs"], [])
        XCTAssertEqual(nb.cells[1]["outputs"]?.arrayValue?.count, 1)
    }

    func testStopsAtTheFirstErrorUnlessAllowed() throws {
        var nb = try notebook([code("nope"), code("print 1")])
        let failures = NotebookRunner(interpreter: LoomInterpreter()).run(&nb)
        XCTAssertEqual(failures.map(\.codeCellNumber), [1])
        XCTAssertEqual(nb.cells[1]["outputs"], [])
        var again = try notebook([code("nope"), code("print 1")])
        _ = NotebookRunner(interpreter: LoomInterpreter()).run(&again, options: .init(allowErrors: true))
        XCTAssertEqual(again.cells[1]["outputs"]?.arrayValue?.count, 1)
    }

    func testParametersGoAfterTheTaggedCellAndReplaceOldOnes() throws {
        var nb = try notebook([code("a = 1"), code("epochs = 3", tags: ["parameters"]), code("epochs")])
        Parameters.inject([("epochs", "5"), ("path", "data \"x\".csv"), ("keep", "10%")], into: &nb)
        Parameters.inject([("epochs", "6")], into: &nb)
        let tags = nb.cells.map { Notebook.tags($0) }
        XCTAssertEqual(tags, [[], ["parameters"], ["injected-parameters"], []])
        XCTAssertEqual(Notebook.text(nb.cells[2]["source"]), "# Parameters\nepochs = 6")
        var fresh = try notebook([code("x")])
        Parameters.inject([("path", "data \"x\".csv"), ("keep", "10%")], into: &fresh)
        XCTAssertEqual(Notebook.text(fresh.cells[0]["source"]), "# Parameters\npath = \"data \\\"x\\\".csv\"\nkeep = 10%")
        _ = NotebookRunner(interpreter: LoomInterpreter()).run(&nb)
        XCTAssertEqual(nb.cells[3]["outputs"]?.arrayValue?.first?["data"]?["text/plain"], "6")
    }

    func testWritesLikeNbformatAndReadsBack() throws {
        let path = "/tmp/loom-notebook-test-\(getpid()).ipynb"
        defer { unlink(path) }
        let nb = try notebook([code("a = 1\nprint a\n")], metadata: ["zeta": 1, "alpha": ["x": true]])
        try nb.write(to: path)
        let text = try Files.readText(path)
        XCTAssertTrue(text.hasPrefix("{\n \"cells\": [\n  {\n"))
        XCTAssertTrue(text.contains("\"source\": [\n    \"a = 1\\n\",\n    \"print a\\n\"\n   ]"))
        XCTAssertTrue(text.hasSuffix("}\n"))
        let back = try Notebook.read(path)
        XCTAssertEqual(Notebook.text(back.cells[0]["source"]), "a = 1\nprint a\n")
        XCTAssertEqual(back.metadata["zeta"], 1)
    }

    func testTimeoutInterruptsTheCell() throws {
        var nb = try notebook([code("sleep 20")])
        let started = ContinuousClock.now
        let failures = NotebookRunner(interpreter: LoomInterpreter()).run(&nb, options: .init(timeout: 0.2))
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(5))
        XCTAssertEqual(failures.first?.error.name, "CellTimeoutError")
    }
}
