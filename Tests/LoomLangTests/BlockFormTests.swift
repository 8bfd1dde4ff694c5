import LoomCore
import LoomLang
import XCTest

/// The block forms (`model`, `for`, `quiet`, `time`): each one declaration,
/// found by the parser, the evaluator and completion through the table.
final class BlockFormTests: LoomTestCase {
    func testTheBlockFormsAreTheStatementTablesBlocks() {
        XCTAssertEqual(Blocks.signatures.map(\.keyword), ["for", "quiet", "time", "model"])
        for s in Blocks.signatures {
            XCTAssertTrue(Statements.all.contains(s), "`\(s.keyword)` is not in the statement table")
        }
        XCTAssertEqual(Blocks.signatures.first { $0.keyword == "model" }?.usage, "model NAME { LAYERS }")
        XCTAssertEqual(Blocks.signatures.first { $0.keyword == "for" }?.usage, "for NAME in V1 V2 … [parallel] { … }")
    }

    /// Every block form reads its own example as one statement of its own
    /// (not a command, not an expression) spanning the whole example, and
    /// runs it in a fresh session.
    func testEveryBlockFormParsesAndRunsItsExample() throws {
        for s in Blocks.signatures {
            let statements = try Parser.parse(s.example)
            XCTAssertEqual(statements.count, 1, s.keyword)
            let statement = try XCTUnwrap(statements.first)
            switch statement {
            case .command, .expression, .assignment, .keep: XCTFail("`\(s.keyword)` read as \(statement)")
            default: break
            }
            XCTAssertEqual(statement.range.line, 1)
            XCTAssertEqual(statement.range.column, 1)
            XCTAssertEqual(statement.range.end, s.example.unicodeScalars.count, "`\(s.keyword)` stops short of its example's end")
            let output = CapturedOutput()
            let result = LoomInterpreter().execute(s.example, output: output)
            guard case .ok = result else { XCTFail("`\(s.keyword)`: \(result)"); continue }
            XCTAssertFalse(output.displays.isEmpty && output.streams.isEmpty && s.keyword != "quiet", "`\(s.keyword)` showed nothing")
        }
    }

    /// Each form's runner runs what its reader made, with what it read.
    func testEachBlockRunsWhatItRead() {
        XCTAssertEqual(value("model m {\n  input 4\n  dense 3\n}\nm.params"), "15")
        out.streams = []
        run("for k in 1 2 {\n  print k\n}")
        XCTAssertEqual(out.stdout, "1\n2\n")
        out.displays = []
        XCTAssertEqual(value("quiet {\n  summary m\n  q = 7\n}\nq"), "7")
        XCTAssertTrue(out.displays.isEmpty)
        out.streams = []
        XCTAssertEqual(value("time t = 5\nt"), "5")
        XCTAssertTrue(out.stdout.hasPrefix("time: ") && out.stdout.hasSuffix(" (wall clock)\n"), out.stdout)
    }

    /// A keyword with a block and a `KEYWORD NAME = …` form reads the form
    /// the third token picks.
    func testABlockKeywordWithANamedFormPicksByTheEqualsSign() throws {
        guard case .command(let copy) = try Parser.parse("model b = copy a")[0] else { return XCTFail("not a command") }
        XCTAssertEqual(copy.signature.title, "model copy")
        guard case .model(let name, let layers, _) = try Parser.parse("model b {\n  input 4\n}")[0] else { return XCTFail("not a model") }
        XCTAssertEqual(name, "b")
        XCTAssertEqual(layers.map(\.signature.keyword), ["input"])
    }

    /// Blocks inside blocks, `time` before a statement included, count
    /// towards the nesting limit: an error, never a stack overflow.
    func testNestedBlocksAreLimited() {
        XCTAssertEqual(value(String(repeating: "time ", count: 200) + "x = 1\nx"), "1")
        XCTAssertTrue(error(String(repeating: "time ", count: 20_000) + "x = 1")?.value.contains("nested too deeply") ?? false)
        let quiet = String(repeating: "quiet {\n", count: 300) + String(repeating: "}\n", count: 300)
        XCTAssertTrue(error(quiet)?.value.contains("nested too deeply") ?? false)
    }

    /// Completion inside braces offers what the innermost block holds:
    /// layers in a model, statements in a loop, `quiet` or `time`.
    func testCompletionOffersWhatTheInnermostBlockHolds() {
        func matches(_ code: String) -> [String] { loom.complete(code, cursor: code.unicodeScalars.count).matches }
        XCTAssertEqual(matches("model m {\n  den"), ["dense"])
        XCTAssertEqual(matches("for k in 1 2 {\n  tra"), ["train"])
        XCTAssertEqual(matches("quiet {\n  evalu"), ["evaluate"])
        XCTAssertEqual(matches("time {\n  pri"), ["print"])
        XCTAssertEqual(matches("for k in 1 2 {\n  model m {\n    den"), ["dense"])
        XCTAssertEqual(matches("for k in 1 2 {\n  model m {\n    input 4\n  }\n  tra"), ["train"])
        XCTAssertEqual(matches("time model m {\n  lst"), ["lstm"])
        XCTAssertEqual(matches("for k in 1 2 {\n  train m on d pati"), ["patience"])
        XCTAssertTrue(matches("quiet {\n  ").contains("}"))
        XCTAssertFalse(matches("pri\n").contains("}"))
    }
}
