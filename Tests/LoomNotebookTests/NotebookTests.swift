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
        try Parameters.inject([("epochs", "5"), ("path", "data \"x\".csv"), ("keep", "10%")], into: &nb, reserved: reserved)
        try Parameters.inject([("epochs", "6")], into: &nb, reserved: reserved)
        let tags = nb.cells.map { Notebook.tags($0) }
        XCTAssertEqual(tags, [[], ["parameters"], ["injected-parameters"], []])
        XCTAssertEqual(Notebook.text(nb.cells[2]["source"]), "# Parameters\nepochs = 6")
        var fresh = try notebook([code("x")])
        try Parameters.inject([("path", "data \"x\".csv"), ("keep", "10%")], into: &fresh, reserved: reserved)
        XCTAssertEqual(Notebook.text(fresh.cells[0]["source"]), "# Parameters\npath = \"data \\\"x\\\".csv\"\nkeep = 10%")
        _ = NotebookRunner(interpreter: LoomInterpreter()).run(&nb)
        XCTAssertEqual(nb.cells[3]["outputs"]?.arrayValue?.first?["data"]?["text/plain"], "6")
    }

    /// Without a cell tagged `parameters` (an injected one is not), the
    /// parameters go first and `loom run` warns, as papermill does.
    func testANotebookWithoutAParametersCellIsToldApartAndGetsTheParametersFirst() throws {
        var nb = try notebook([code("epochs = 3"), code("print epochs")])
        XCTAssertFalse(Parameters.hasParametersCell(nb))
        try Parameters.inject([("epochs", "7")], into: &nb, reserved: reserved)
        XCTAssertEqual(nb.cells.map { Notebook.tags($0) }, [["injected-parameters"], [], []])
        XCTAssertFalse(Parameters.hasParametersCell(nb), "the injected cell is not a parameters cell")
        _ = NotebookRunner(interpreter: LoomInterpreter()).run(&nb)
        XCTAssertEqual(nb.cells[2]["outputs"]?.arrayValue?.first?["text"], "3\n", "the notebook's own assignment comes after")
        XCTAssertTrue(Parameters.hasParametersCell(try notebook([code("a = 1"), code("epochs = 3", tags: ["parameters"])])))
    }

    let reserved = Statements.wordsNoVariableMayUse

    /// What the injected cell prints for `print NAME` after it, and whether it
    /// ran anything else.
    func printed(_ name: String, _ value: String) throws -> [String] {
        var nb = try notebook([code(.string("print \(name)"))])
        try Parameters.inject([(name, value)], into: &nb, reserved: reserved)
        XCTAssertTrue(NotebookRunner(interpreter: LoomInterpreter()).run(&nb).isEmpty)
        return nb.cells.flatMap { $0["outputs"]?.arrayValue ?? [] }.compactMap { $0["text"]?.stringValue }
    }

    /// The lexer reads Unicode scalars: a quote that joins a prepended U+0600
    /// into one Character is still a quote, and is escaped.
    func testAQuoteJoinedToTheCharacterBeforeItIsEscaped() throws {
        let value = "\u{0600}\"\nprint \"INJECTED\"\n\""
        XCTAssertEqual(try printed("s", value), [value + "\n"])
        XCTAssertEqual(try Parameters.source([("s", value)], reserved: reserved),
                       "# Parameters\ns = \"\u{0600}\\\"\\nprint \\\"INJECTED\\\"\\n\\\"\"")
    }

    func testControlCharactersInAValueAreRefused() {
        for (value, shown) in [("[1]\r\nprint \"INJECTED\"", "U+000D at character 4"), ("a\u{0}", "U+0000 at character 2"),
                               ("\u{1B}[2J", "U+001B at character 1"), ("a\u{2028}b", "U+2028"), ("\u{85}", "U+0085")] {
            XCTAssertThrowsError(try Parameters.source([("ks", value)], reserved: reserved)) { error in
                let text = (error as? ParameterError)?.description ?? ""
                XCTAssertTrue(text.hasPrefix("the value of `ks` holds a control character, \(shown)"), text)
            }
        }
        XCTAssertEqual(try Parameters.source([("s", "a\tb\nc")], reserved: reserved), "# Parameters\ns = \"a\\tb\\nc\"")
    }

    func testNamesFollowTheLanguagesRule() throws {
        for (name, message) in [("x = 1\nprint \"INJ\"\ny", "'x = 1<U+000A>print \"INJ\"<U+000A>y' is not a Loom name"),
                                ("1a", "'1a' is not a Loom name"), ("", "'' is not a Loom name"), ("a.b", "'a.b' is not a Loom name"),
                                ("train", "`train` is a statement or layer word"), ("dense", "`dense` is a statement or layer word")] {
            XCTAssertThrowsError(try Parameters.source([(name, "1")], reserved: reserved)) { error in
                XCTAssertTrue(((error as? ParameterError)?.description ?? "").hasPrefix(message), "\(error)")
            }
        }
        XCTAssertEqual(try printed("größe_2", "3"), ["3\n"])
    }

    /// A list is read as literals and written back item by item; anything
    /// else in brackets is a string.
    func testListValuesAreLiteralsOrText() throws {
        func injected(_ value: String) throws -> String {
            String(try Parameters.source([("ks", value)], reserved: reserved).dropFirst("# Parameters\nks = ".count))
        }
        XCTAssertEqual(try injected("[5%,  'a\\'b',[1, -2e3], []]"), #"[5%, "a'b", [1, -2e3], []]"#)
        XCTAssertEqual(try injected("[a, b]"), #""[a, b]""#)
        XCTAssertEqual(try injected("[1] print 2 [3]"), #""[1] print 2 [3]""#)
        XCTAssertEqual(try injected("[1, 2"), #""[1, 2""#)
        XCTAssertEqual(try injected("nan"), #""nan""#)
        XCTAssertEqual(try injected("0x10"), #""0x10""#)
        XCTAssertEqual(try injected("-.5e+3%"), "-.5e+3%")
        XCTAssertEqual(try printed("ks", "[5%, \"a b\", [1, 2]]"), ["[5%, a b, [1, 2]]\n"])
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
