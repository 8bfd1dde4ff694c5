import Foundation
import LoomCore
import LoomEngine
import LoomLang
import XCTest

/// `train … prune to P%`, `keep epoch E` and `rewind M to epoch E`,
/// `prune M P% units|filters`, `compact`, `show mask`.
final class PruningStatementTests: LoomTestCase {
    let path = "/tmp/loom-\(getpid())-pruning"
    let setup = "seed 4\ndata g = glyphs n 90 size 8\nmodel m {\n  input 8x8x1\n  flatten\n  dense 16 relu\n  dense 12 relu\n  dense 10 softmax\n}"

    override func tearDown() {
        for f in ["a", "b", "c"] { unlink("\(path)-\(f).safetensors") }
    }

    func decode(_ f: String) throws -> [String: Tensor] {
        let file = "\(path)-\(f).safetensors"
        return try SafeTensors.decode([UInt8](Data(contentsOf: URL(fileURLWithPath: file))), source: file).tensors
    }

    /// Each line fails with an error holding `message`, placed at `place`.
    func assertRefused(_ cases: [(String, String, String)], file: StaticString = #filePath, line: UInt = #line) {
        for (code, message, place) in cases {
            guard let e = error(code) else { XCTFail("\(code) was accepted", file: file, line: line); continue }
            XCTAssertTrue(e.value.contains(message), "\(code): \(e.value)", file: file, line: line)
            XCTAssertTrue(e.traceback.joined(separator: "\n").contains(place), "\(code): \(e.traceback)", file: file, line: line)
        }
    }

    func zeros(_ t: Tensor?) -> Int { t?.storage.filter { $0 == 0 }.count ?? -1 }

    /// Per layer from epoch 2 to 3 of 4: the history's sparsity column
    /// rises to 80% and stays; every kernel holds exactly 80% zeros.
    func testTrainPrunesGraduallyToTheShareAtItsLastEpoch() throws {
        run(setup)
        guard case .ok = run("train m on g epochs 4 prune to 80% from 2 to 3\nsave m \"\(path)-a.safetensors\"") else {
            return XCTFail("\(error("x") as Any)")
        }
        let table = try XCTUnwrap(texts().first { $0.hasPrefix("training") })
        let rows = table.split(separator: "\n").filter { $0.hasPrefix("│") }.map(String.init)
        XCTAssertTrue(rows[0].contains("sparsity"), table)
        XCTAssertTrue(rows[1].contains("0.0%") && rows[3].contains("80.0%") && rows[4].contains("80.0%"), table)
        let saved = try decode("a")
        for (key, count) in [("dense1.kernel", 64 * 16), ("dense2.kernel", 16 * 12), ("dense3.kernel", 12 * 10)] {
            XCTAssertEqual(zeros(saved[key]), Int((0.8 * Double(count)).rounded()), key)
        }
        run("show pruning m")
        let rounds = try XCTUnwrap(texts().last { $0.hasPrefix("pruning rounds of m") })
        // Round 0 before training: its 38 biases start at zero (of 1,374 weights and biases); round 1 after:
        // 80% of the kernels' 1,336 weights (1,069) and one bias still zero.
        XCTAssertTrue(rounds.contains("│     0 │         2.8% │") && rounds.contains("│     1 │        77.9% │"), rounds)
    }

    /// `global`: one cut over the three kernels, 90% of them all together.
    func testGlobalGradualPruningCutsAllKernelsTogether() throws {
        run(setup)
        guard case .ok = run("train m on g epochs 3 prune to 90% every 2 global\nsave m \"\(path)-a.safetensors\"") else {
            return XCTFail("global")
        }
        let saved = try decode("a")
        let keys = ["dense1.kernel", "dense2.kernel", "dense3.kernel"]
        XCTAssertEqual(keys.reduce(0) { $0 + zeros(saved[$1]) }, Int((0.9 * Double(64 * 16 + 16 * 12 + 12 * 10)).rounded()))
    }

    func testBadSchedulesAreRefusedWhereTheyAreWritten() {
        run(setup)
        let cases: [(String, String, String)] = [
            ("train m on g epochs 3 prune to 90% to 5", "pruning runs from epoch 1 to 5 of this `train`, which has 3 epoch(s)",
             "line 1, column 29"),
            ("train m on g epochs 3 prune to 100%", "prune to takes a share from 0% to below 100%", "line 1, column 32"),
            ("train m on g epochs 3 prune to 50% from 3 to 2", "pruning ends at epoch 2, before it starts at epoch 3", "line 1, column 29"),
            ("train m on g epochs 3 prune to 50% every 0", "every takes a whole number from 1, not 0", "line 1, column 42"),
            ("train m on g epochs 3 prune 50%", "expected `to P%` after prune", "line 1, column 29"),
            ("train m on g epochs 3 prune to 50% patience 2", "gradual pruning needs every epoch up to 3", "line 1, column 29"),
            ("train m on g epochs 2 keep epoch 3", "this `train` runs epochs 1 to 2 of `m`, so it cannot keep epoch 3", "line 1, column 34"),
            ("train m on g epochs 2 keep epochs 1 3", "this `train` runs epochs 1 to 2 of `m`, so it cannot keep epoch 3",
             "line 1, column 37"),
            ("train m on g epochs 2 keep epochs 4 1", "this `train` runs epochs 1 to 2 of `m`, so it cannot keep epoch 4",
             "line 1, column 35"),
            ("train m on g epochs 2 keep epochs 1 2 9", "this `train` runs epochs 1 to 2 of `m`, so it cannot keep epoch 9",
             "line 1, column 39"),
            ("train m on g epochs 2 keep epochs 2 2", "keep names epoch 2 twice", "line 1, column 37"),
            ("train m on g epochs 2 keep epochs 0.5", "keep takes epochs, whole numbers from 1, not 0.5", "line 1, column 35"),
            ("train m on g epochs 2 keep epochs", "an epoch after `epochs`", "line 1"),
        ]
        assertRefused(cases)
    }

    /// Late rewinding: the weights a 2-epoch run leaves (same seed, same
    /// start) are what `rewind m to epoch 2` returns to, under the mask
    /// pruning set after epoch 3.
    func testRewindToAnEpochGivesItsWeightsUnderTheCurrentMask() throws {
        run(setup)
        guard case .ok = run("train m on g epochs 2\nsave m \"\(path)-a.safetensors\"") else { return XCTFail("2 epochs") }
        loom = LoomInterpreter()
        run(setup)
        guard case .ok = run("train m on g epochs 3 keep epoch 2\nprune m 70%\nrewind m to epoch 2\nsave m \"\(path)-b.safetensors\"") else {
            return XCTFail("\(error("x") as Any)")
        }
        let epoch2 = try decode("a"), rewound = try decode("b")
        for key in ["dense1.kernel", "dense2.kernel", "dense3.kernel"] {
            let mask = try XCTUnwrap(rewound[key + ".mask"]).storage
            let expected = zip(try XCTUnwrap(epoch2[key]).storage, mask).map { $0 * $1 }
            XCTAssertEqual(try XCTUnwrap(rewound[key]).storage, expected, key)
        }
        XCTAssertEqual(try XCTUnwrap(rewound["dense1.bias"]).storage, try XCTUnwrap(epoch2["dense1.bias"]).storage)
        XCTAssertEqual(error("rewind m to epoch 1")?.value,
                       "`m` has no weights kept from epoch 1 (it holds epoch 2): train it with `keep epoch 1` first")
    }

    /// `keep epochs 1 3` keeps both: rewinding to either gives the weights a
    /// run of that many epochs leaves (same seed, same start), under the
    /// mask; a later `train … keep` replaces them, and an epoch not kept is
    /// refused, naming those held. A copy holds the same epochs.
    func testSeveralKeptEpochsAreEachARewindTarget() throws {
        for (epochs, file) in [(1, "a"), (3, "c")] {
            loom = LoomInterpreter()
            run(setup)
            guard case .ok = run("train m on g epochs \(epochs)\nsave m \"\(path)-\(file).safetensors\"") else { return XCTFail("\(epochs)") }
        }
        loom = LoomInterpreter()
        run(setup)
        guard case .ok = run("train m on g epochs 4 keep epochs 1 3\nprune m 60%\nmodel k = copy m") else {
            return XCTFail("\(error("x") as Any)")
        }
        for (epoch, file) in [(1, "a"), (3, "c")] {
            guard case .ok = run("rewind k to epoch \(epoch)\nsave k \"\(path)-b.safetensors\"") else { return XCTFail("rewind \(epoch)") }
            let trained = try decode(file), rewound = try decode("b")
            for key in ["dense1.kernel", "dense3.kernel"] {
                let mask = try XCTUnwrap(rewound[key + ".mask"]).storage
                XCTAssertEqual(try XCTUnwrap(rewound[key]).storage, zip(try XCTUnwrap(trained[key]).storage, mask).map { $0 * $1 },
                               "\(key) after epoch \(epoch)")
            }
            XCTAssertEqual(try XCTUnwrap(rewound["dense2.bias"]).storage, try XCTUnwrap(trained["dense2.bias"]).storage)
        }
        XCTAssertEqual(error("rewind m to epoch 2")?.value,
                       "`m` has no weights kept from epoch 2 (it holds epochs 1, 3): train it with `keep epoch 2` first")
        guard case .ok = run("train m on g epochs 2 keep epoch 6") else { return XCTFail("\(error("x") as Any)") }
        XCTAssertEqual(error("rewind m to epoch 1")?.value,
                       "`m` has no weights kept from epoch 1 (it holds epoch 6): train it with `keep epoch 1` first")
    }

    /// A copy of a model pruned to 2:4 keeps the pattern, so rewiring the copy keeps 2 of every 4.
    func testACopyKeepsTheNMPattern() throws {
        run(setup)
        guard case .ok = run("prune m 2:4\nmodel c = copy m"), case .object(let state as ModelState)? = loom.session["c"] else {
            return XCTFail("\(error("x") as Any)")
        }
        XCTAssertEqual(SparseWeights.prunable(state.model.layers).map(\.blockPattern), Array(repeating: BlockPattern(kept: 2, block: 4), count: 3))
    }

    /// Half the units of the hidden layers, compacted: `summary` shows 8 and
    /// 6 units, the predictions are unchanged, and no mask is left (the
    /// removed units were all it held), so the file stores every weight whole.
    func testUnitsPrunedThenCompactedShrinkTheModel() throws {
        run(setup + "\ntrain m on g epochs 1")
        guard case .ok = run("prune m 50% units\nsave m \"\(path)-a.safetensors\"") else { return XCTFail("\(error("x") as Any)") }
        let pruned = try decode("a")
        XCTAssertEqual(zeros(pruned["dense1.bias.mask"]), 8)
        XCTAssertEqual(zeros(pruned["dense3.kernel.mask"]), -1, "the output layer is left whole")
        out = CapturedOutput()
        run("predict m on g first 20")
        let before = texts()
        guard case .ok = run("compact m\nsummary m") else { return XCTFail("\(error("compact m") as Any)") }
        let summary = try XCTUnwrap(texts().last)
        XCTAssertTrue(summary.contains("(8)") || summary.contains(" 8 "), summary)
        XCTAssertTrue(texts().contains { $0.hasPrefix("m compacted: 1,374 → 644 parameters") }, "\(texts())")
        out = CapturedOutput()
        run("predict m on g first 20")
        XCTAssertEqual(texts(), before)
        // Stored whole: the storage line says no more than the bytes.
        let note = summary.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        XCTAssertNotNil(note.range(of: #"Stored as `save` writes it: [0-9,]+ bytes\."#, options: .regularExpression), summary)
        run("show mask m.dense2")
        XCTAssertEqual(texts().last, "`dense2` has no mask: every weight trains (`prune` or `sparse` sets one)")
        guard case .ok = run("save m \"\(path)-b.safetensors\"") else { return XCTFail("\(error("x") as Any)") }
        XCTAssertFalse(try decode("b").keys.contains { $0.hasPrefix("dense1.kernel.") }, "stored whole, without positions")
    }

    /// A light mask makes the file larger, and `summary` says so rather than "0.9× fewer".
    func testSummarySaysWhenALightMaskCostsMoreThanItSaves() throws {
        run(setup + "\nprune m 5%")
        guard case .ok = run("summary m") else { return XCTFail("\(error("summary m") as Any)") }
        // The note is wrapped to the page: read it as one line.
        let summary = try XCTUnwrap(texts().last).split(whereSeparator: \.isWhitespace).joined(separator: " ")
        XCTAssertNotNil(summary.range(of: #"[0-9.]+% more than with every weight whole \([0-9,]+\): at this sparsity the kept"#
                                      + #" weights' positions cost more than the zeros save\."#, options: .regularExpression), summary)
        XCTAssertFalse(summary.contains("fewer"), summary)
    }

    func testWhatCannotBePrunedWholeOrCompactedIsRefusedWhereItIsWritten() {
        run(setup)
        let cases: [(String, String, String)] = [
            ("compact m", "nothing to compact: no unit or filter of m is pruned whole", "line 1, column 1"),
            ("prune m 50% filters", "`m` has no conv2d layer before its output layer whose filters can be pruned", "line 1, column 13"),
            ("prune m 50% units layer dense3", "the units of `dense3` are the model's outputs", "line 1, column 25"),
            ("prune m 2:4 units", "an N:M pattern keeps weights within units, so it takes no `units`", "line 1, column 13"),
            ("prune m 50% units global", "structured pruning ranks the units of each layer by their own norms", "line 1, column 19"),
            ("\nprune m 50% units layer flatten1", "`flatten1` is a flatten layer; `units` prunes dense layers", "line 2, column 13"),
        ]
        assertRefused(cases)
    }

    /// `show mask`: a layer never pruned says so; a pruned one is drawn with its share.
    func testShowMaskDrawsTheMaskWithItsSparsity() {
        run(setup)
        run("show mask m.dense2")
        XCTAssertEqual(texts().last, "`dense2` has no mask: every weight trains (`prune` or `sparse` sets one)")
        run("prune m 75% layer dense2\nshow mask m.dense2")
        let drawn = texts().last ?? ""
        XCTAssertTrue(drawn.hasPrefix("dense2's mask: 75.0% pruned, 48 of 192 weights kept (rows: inputs, columns: units)"), drawn)
        XCTAssertTrue(drawn.contains("16×12, nz = 48"), drawn)
    }
}
