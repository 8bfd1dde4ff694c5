import LoomCore
import LoomLang
import XCTest

/// `train … rewire set|rigl [every N] [fraction F]` and `sparse P% erk`.
final class RewireStatementTests: LoomTestCase {
    private let model = "seed 2\ndata g = glyphs n 60 size 8\nmodel m {\n  input 8x8x1\n  flatten\n  dense 40 relu sparse 90% erk\n"
        + "  dense 10 softmax sparse 90% erk\n}"

    /// Runs `code`, which must succeed, and gives the last table it drew.
    private func lastTable(_ code: String) throws -> String {
        guard case .ok = run(code) else {
            XCTFail("failed: \(code)")
            return ""
        }
        return try XCTUnwrap(texts().last { $0.contains("┌") })
    }

    /// The history table counts the mask entries each epoch's rewirings changed.
    func testTrainingWithRewiringShowsTheMaskChangesByEpoch() throws {
        guard case .ok = run(model) else { return XCTFail("the model") }
        let history = try lastTable("train m on g epochs 2 batch 8 rewire rigl every 3 fraction 30%")
        XCTAssertTrue(history.contains("rewired"), history)
        let rows = history.split(separator: "\n").filter { $0.contains("│     1 ") || $0.contains("│     2 ") }
        XCTAssertEqual(rows.count, 2, history)
        // An epoch of 8 steps rewires at steps 3 and 6; RigL's later share is smaller.
        let counts = rows.map { Int($0.split(separator: "│").map { $0.trimmingCharacters(in: .whitespaces) }[3])! }
        XCTAssertGreaterThan(counts[0], counts[1], history)
        XCTAssertTrue(counts.allSatisfy { $0 > 0 && $0 % 2 == 0 }, "each moved weight is two mask entries: \(history)")
        XCTAssertFalse(try lastTable("train m on g epochs 1 batch 8").contains("rewired"), "no column without rewiring")
    }

    func testRewiringRefusesModelsWithoutMasksAndBadOptions() throws {
        run("data g = glyphs n 20 size 8\nmodel d {\n  input 8x8x1\n  flatten\n  dense 10 softmax\n}")
        let noMask = try XCTUnwrap(error("train d on g rewire set"))
        XCTAssertTrue(noMask.value.contains("`sparse P%`"), noMask.value)
        XCTAssertTrue(error("train d on g rewire sett")!.value.contains("did you mean `set`"))
        run("model s {\n  input 8x8x1\n  flatten\n  dense 10 softmax sparse 80%\n}")
        XCTAssertTrue(error("train s on g rewire set every 0")!.value.contains("whole number from 1"))
        XCTAssertTrue(error("train s on g rewire set every 2.5")!.value.contains("whole number from 1"))
        XCTAssertTrue(error("train s on g rewire rigl fraction 1.5")!.value.contains("at most 1"))
        guard case .ok = run("train s on g rewire set fraction 0.5 every 2") else { return XCTFail("options in either order") }
    }

    func testERKNeedsOneSparsityAndSparse() throws {
        let withoutSparse = try XCTUnwrap(error("model e {\n  input 10\n  dense 10 relu erk\n}"))
        XCTAssertTrue(withoutSparse.value.contains("give it with `sparse P%`"), withoutSparse.value)
        let mixed = try XCTUnwrap(error("model e {\n  input 10\n  dense 10 relu sparse 50% erk\n  dense 4 sparse 90% erk\n}"))
        XCTAssertTrue(mixed.value.contains("different"), mixed.value)
        guard case .ok = run(model) else { return XCTFail("one sparsity over erk layers") }
    }
}
