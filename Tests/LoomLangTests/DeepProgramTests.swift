import Foundation
import LoomCore
import LoomEngine
import LoomLang
import XCTest

/// Long chains and deep or self-sharing values: each reaches every path a
/// front end or a file can send it on, and ends in a result or a clear
/// error, never a stack overflow or a walk of 2ⁿ values.
final class DeepProgramTests: LoomTestCase {
    /// `1+1+…` with `terms` ones.
    func chain(_ terms: Int, _ term: String = "1", _ op: String = "+") -> String {
        Array(repeating: term, count: terms).joined(separator: op)
    }

    func testAChainOf200000TermsEvaluatesAndIsFreed() {
        XCTAssertEqual(value("x = " + chain(200_000) + "\nx"), "200000")
        XCTAssertEqual(value("(" + chain(200_000, "3", "*") + ") / (" + chain(200_000, "3", "*") + ")"), "nan")  // inf / inf
        XCTAssertEqual(value("x - " + chain(100_000, "1", "-")), "100000")
        XCTAssertEqual(value("x * " + chain(200_000, "1", "/")), "200000")
        // A string grows in place: 200,000 joins cost their length.
        XCTAssertEqual(value("s = \"\" + " + chain(200_000, "\"ab\"") + "\nprint s\n1")?.count, 1)
        XCTAssertEqual(out.stdout.count, 400_001)
    }

    func testAChainWithASyntaxErrorIsAnErrorNotACrash() {
        XCTAssertEqual(error("x = " + chain(200_000) + " +")?.value, "expected a value, found the end of the cell")
        XCTAssertEqual(error("x = " + chain(200_000) + " )")?.value, "found `)` after the end of the statement")
        XCTAssertEqual(error("x = " + chain(200_000) + " + y")?.value, "unknown name `y`")
    }

    /// What a console sends on every Enter key, and `user_expressions`.
    func testAChainThroughIsCompleteAndUserExpressions() {
        XCTAssertEqual(loom.isComplete("x = " + chain(200_000)), .complete)
        XCTAssertEqual(loom.isComplete("x = " + chain(200_000) + " )"), .invalid)
        guard case .ok(let bundle) = loom.evaluate(expression: chain(200_000)) else { return XCTFail() }
        XCTAssertEqual(bundle?.plainText, "200000")
        guard case .error = loom.evaluate(expression: chain(200_000) + " +") else { return XCTFail() }
    }

    /// A saved model whose stored definition holds a 200,000-term chain loads.
    func testAModelFileWithAChainInItsDefinitionLoads() throws {
        let path = NSTemporaryDirectory() + "loom-chain-\(getpid()).safetensors"
        defer { unlink(path) }
        run("model m {\n  input 4\n  dense 2\n}\nsave m \"\(path)\"")
        let saved = try SafeTensors.decode(Array(try XCTUnwrap(FileManager.default.contents(atPath: path))), source: path)
        var metadata = saved.metadata
        // `dense 2` as `dense 2+1-1+1-1…`: the same layer, written as a long chain.
        metadata["loom.definition"] = try XCTUnwrap(metadata["loom.definition"]).replacingOccurrences(
            of: "dense 2", with: "dense 2" + String(repeating: "+1-1", count: 100_000))
        let bytes = SafeTensors.encode(saved.tensors.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
                                       metadata: metadata.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        guard case .ok = run("load n \"\(path)\"") else { return XCTFail("\(String(describing: error("load n \"\(path)\"")))") }
        XCTAssertEqual(value("n.params"), "10")
    }

    // MARK: nested lists

    /// `l = [l]` in a loop: refused past 200 levels, and what was made
    /// before can be listed, printed, deleted and lived beside.
    func testListsNestAtMost200Deep() {
        let loop = "l = 0\nfor a in " + chain(100_000, "1", " ") + " {\n  l = [l]\n}"
        XCTAssertEqual(error(loop)?.value,
                       "lists nest at most 200 deep (lists inside lists); this one would be 201 (in the iteration `a = 1`)")
        XCTAssertEqual(value("print l\n1"), "1")
        XCTAssertEqual(out.stdout, String(repeating: "[", count: 200) + "0" + String(repeating: "]", count: 200) + "\n")
        guard case .ok = run("list\nmodel m {\n  input 4\n  dense 2\n}\ndelete l") else { return XCTFail() }
        XCTAssertTrue(error("l")?.value.hasPrefix("unknown name `l`") ?? false)
    }

    /// `l = [l, l]` doubles the values a walk would visit: refused past a
    /// million, in no more time than the list's own length.
    func testASelfSharingListIsBoundedNotWalkedExponentially() {
        let start = Monotonic.now
        let doubling = "l = 1\nfor a in " + chain(34, "1", " ") + " {\n  l = [l, l]\n}"
        XCTAssertEqual(error(doubling)?.value, "a list holds at most 1,000,000 values, counting those of the lists inside it "
                       + "each time they appear; this one would hold 1,048,574 (in the iteration `a = 1`)")
        XCTAssertLessThan(Monotonic.now - start, 1)
        // 2¹⁸ ones, 2¹⁹ − 2 values in all: printed, listed, and counted in memory as what they expand to.
        XCTAssertEqual(value("print l\n1"), "1")
        XCTAssertEqual(out.stdout.filter { $0 == "1" }.count, 1 << 18)
        guard case .ok = run("model m {\n  input 4\n  dense 2\n}\nlist") else { return XCTFail() }
        XCTAssertTrue(texts().last?.contains("│ l    │ list   │") ?? false)
        XCTAssertLessThan(Monotonic.now - start, 5)
    }

    func testAListLargerThanTheMemoryLimitIsRefused() {
        run("set memory 16\ns = \"" + String(repeating: "x", count: 2_000_000) + "\"")
        let e = error("l = [s, s, s, s, s, s, s, s, s]")
        XCTAssertTrue(e?.value.hasPrefix("this list, counting the lists inside it each time they appear, would need 17 MiB, "
                                         + "more than the 16 MiB Loom allows") ?? false, "\(String(describing: e))")
        XCTAssertEqual(value("l = [s, s]\nl2 = [l, l]\n1"), "1")
        // 15 MiB counted, beside the 13 MiB `s`, `l` and `l2` hold.
        let nested = error("l3 = [l2, l2]")?.value ?? ""
        XCTAssertTrue(nested.hasPrefix("this list, counting the lists inside it each time they appear, would need 15 MiB, "
                                       + "and the session holds 13 MiB"), nested)
        // A string a chain makes asks the same account, before each join.
        run("delete l2\ndelete l")
        let joined = error("t = \"\" + " + chain(9, "s"))?.value ?? ""
        XCTAssertTrue(joined.hasPrefix("joining strings of 14,000,000 and 2,000,000 bytes would need 15 MiB, and the session "
                                       + "holds 1.9 MiB"), joined)
    }
}

/// Blocks on one line, and names that would read as statements.
final class OneLineBlockTests: LoomTestCase {
    func testABlockOnOneLineRuns() {
        guard case .ok = run("for k in 1 2 { print k }") else { return XCTFail("\(String(describing: error("for k in 1 2 { print k }")))") }
        XCTAssertEqual(out.stdout, "1\n2\n")
        run("for k in 3 4 { for j in 5 6 { print k j } }\ntime { print \"t\" }\nquiet { print \"q\" }")
        XCTAssertTrue(out.stdout.hasPrefix("1\n2\n3 5\n3 6\n4 5\n4 6\nt\ntime: "), out.stdout)
        XCTAssertTrue(out.stdout.hasSuffix("(wall clock)\nq\n"), out.stdout)
        run("for k in 1 2 { record runs k=k sq=k*k }")
        XCTAssertEqual(value("runs.rows"), "2")
        XCTAssertEqual(error("print 1 }")?.value, "found `}` after the end of the statement")
    }

    func testStatementAndLayerWordsCannotNameAnything() {
        run("model m {\n  input 4\n  dense 2\n}")
        let copy = error("model train = copy m")
        XCTAssertEqual(copy?.value, "`train` is a statement word and cannot be a name")
        XCTAssertEqual(copy?.traceback[1], "  --> line 1, column 7")
        XCTAssertEqual(error("model print {\n  input 4\n}")?.value, "`print` is a statement word and cannot name a model")
        XCTAssertEqual(error("dense = 3")?.value, "`dense` is a layer word and cannot name a variable")
        XCTAssertEqual(error("data print = glyphs n 10")?.value, "`print` is a statement word and cannot be a name")
        XCTAssertEqual(error("load save \"x.safetensors\"")?.value, "`save` is a statement word and cannot be a name")
        let record = error("record train a=1")
        XCTAssertEqual(record?.value, "`train` is a statement word and cannot name a results table")
        XCTAssertEqual(record?.traceback[1], "  --> line 1, column 8")
        // A layer word starts no line outside a model: it may name a model (as a tutorial's does).
        // A layer's own name names a part of its model, and may be any word.
        guard case .ok = run("model dense {\n  input 4\n  dense 2 as train\n}\nmodel d2 = copy dense") else { return XCTFail() }
        XCTAssertEqual(value("model fine = copy m\nfine.params"), "10")
    }
}
