import Foundation
import LoomCore
import LoomEngine
import LoomLang
import XCTest

/// `prune M N:M`: each unit keeps the N largest of every M consecutive
/// inputs, through the masks `prune` sets, so the pattern holds in training.
final class NMPruningTests: LoomTestCase {
    /// The kept positions of one block, found independently: the indices of
    /// the `kept` largest magnitudes (ties to the lower index), masked ones as 0.
    func expectedKept(_ values: [Float], _ mask: [Float]?, _ indices: [Int], kept: Int) -> Set<Int> {
        let ranked = indices.map { i in (i, mask?[i] == 0 ? Float(0) : abs(values[i])) }
            .sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
        return Set(ranked.prefix(kept).map(\.0).filter { mask?[$0] ?? 1 == 1 })
    }

    /// Checks that in every block of `block` consecutive rows of each unit of a
    /// `[fanIn, units]` weight the unmasked positions are `expected(block's indices)`.
    func checkBlocks(fanIn: Int, units: Int, block: Int, mask: [Float], _ expected: ([Int]) -> Set<Int>,
                     _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        for u in 0..<units {
            for start in stride(from: 0, to: fanIn, by: block) {
                let indices = (start..<min(start + block, fanIn)).map { $0 * units + u }
                let unmasked = Set(indices.filter { mask[$0] == 1 })
                XCTAssertEqual(unmasked, expected(indices), "\(message): unit \(u), rows from \(start)", file: file, line: line)
            }
        }
    }

    func testEveryBlockKeepsItsLargestNIncludingTheShortLastBlock() throws {
        var random = RandomGenerator(seed: 5)
        // 11 inputs: blocks of 4, 4 and a short last block of 3, which keeps at most 2.
        let values = (0..<33).map { _ in random.nextUnitFloat() - 0.5 }
        let weight = Parameter(name: "kernel", value: Tensor(shape: [11, 3], storage: values))
        SparseWeights.prune([weight], keeping: 2, of: 4)
        let mask = try XCTUnwrap(weight.mask)
        checkBlocks(fanIn: 11, units: 3, block: 4, mask: mask, { self.expectedKept(values, nil, $0, kept: 2) }, "2:4")
        XCTAssertEqual(mask.filter { $0 == 0 }.count, 3 * (2 + 2 + 1))
        for i in 0..<33 { XCTAssertEqual(weight.value[i], mask[i] == 1 ? values[i] : 0) }
        // Pruned again at 1:3, the weights already masked stay masked: each block keeps min(1, its nonzeros).
        SparseWeights.prune([weight], keeping: 1, of: 3)
        let again = try XCTUnwrap(weight.mask)
        checkBlocks(fanIn: 11, units: 3, block: 3, mask: again, { self.expectedKept(values, mask, $0, kept: 1) }, "1:3 after 2:4")
        XCTAssertTrue(zip(mask, again).allSatisfy { $0 == 1 || $1 == 0 }, "a masked weight is never revived")
    }

    /// A dense and a conv2d model pruned 2:4, saved, trained with each
    /// optimizer: every block holds the 2 largest of the weights before
    /// pruning, and after training the same 2 and only they are nonzero.
    func testThePatternHoldsThroughTrainingWithEveryOptimizer() throws {
        let path = "/tmp/loom-\(getpid())-nm"
        defer { for f in ["before", "pruned", "trained"] { unlink("\(path)-\(f).safetensors") } }
        run("seed 6\ndata g = glyphs n 60 size 8\nmodel m {\n  input 8x8x1\n  conv2d 4 3x3 relu\n  flatten\n  dense 10 softmax\n}")
        run("save m \"\(path)-before.safetensors\"")
        guard case .ok = run("prune m 2:4\nsave m \"\(path)-pruned.safetensors\"") else { return XCTFail("\(error("prune m 2:4")!)") }
        let before = try decode("\(path)-before.safetensors"), pruned = try decode("\(path)-pruned.safetensors")
        // conv1's im2col rows: 3·3·1 = 9 (blocks 4, 4, 1); dense1's: 6·6·4 = 144.
        let kernels = [("conv1.kernel", 9, 4), ("dense1.kernel", 144, 10)]
        for (key, fanIn, units) in kernels {
            let values = try XCTUnwrap(before[key]).storage, mask = try XCTUnwrap(pruned[key + ".mask"]).storage
            checkBlocks(fanIn: fanIn, units: units, block: 4, mask: mask, { self.expectedKept(values, nil, $0, kept: 2) }, key)
        }
        XCTAssertTrue(texts().contains { $0.hasPrefix("m pruned to 2:4") })
        for optimizer in OptimizerKind.allCases {
            run("load t \"\(path)-pruned.safetensors\"")
            guard case .ok = run("train t on g epochs 2 optimizer \(optimizer.rawValue)\nsave t \"\(path)-trained.safetensors\"") else {
                return XCTFail(optimizer.rawValue)
            }
            let trained = try decode("\(path)-trained.safetensors")
            for (key, fanIn, units) in kernels {
                let mask = try XCTUnwrap(pruned[key + ".mask"]).storage, values = try XCTUnwrap(trained[key]).storage
                XCTAssertEqual(try XCTUnwrap(trained[key + ".mask"]).storage, mask, "\(key), \(optimizer): the mask is kept")
                XCTAssertNotEqual(values, try XCTUnwrap(pruned[key]).storage, "\(key), \(optimizer): training moved the weights")
                // Exactly min(2, block size) nonzeros, where the mask keeps weights.
                checkBlocks(fanIn: fanIn, units: units, block: 4, mask: values.map { $0 != 0 ? 1 : 0 },
                            { Set($0.filter { mask[$0] == 1 }) }, "\(key) after \(optimizer)")
            }
        }
    }

    func testTheRoundIsRecordedAndAPatternTakesNoGlobal() {
        run("model m {\n  input 8\n  dense 4\n}\nprune m 1:4\nshow pruning m")
        let table = texts().first { $0.hasPrefix("pruning rounds of m") } ?? ""
        // 8·4 kernel weights, 6 of every 8 masked, and 4 zero biases: 28 of 36.
        XCTAssertTrue(table.contains("77.8%"), table)
        XCTAssertEqual(error("prune m 2:4 global")?.value, "an N:M pattern holds within each unit's inputs, so it takes no `global`")
    }

    /// Bad patterns: the error names the problem and points at the number at fault.
    func testBadPatternsPointAtTheFault() {
        run("model m {\n  input 8\n  dense 4\n}")
        let cases: [(String, String, String)] = [
            ("prune m 4:4", "N must be below M, not 4:4", "line 1, column 9"),
            ("prune m 3:2", "N must be below M, not 3:2", "line 1, column 9"),
            ("prune m 0:4", "N is 0", "line 1, column 9"),
            ("prune m 2:0", "M is 0", "line 1, column 11"),
            ("prune m 2:4.5", "M is 4.5", "line 1, column 11"),
            ("prune m 2:\"x\"", "M is ", "line 1, column 11"),
            ("prune m 2:2000", "M is 2000", "line 1, column 11"),
            ("prune m 2:", "M after `:`", "line 1, column 11"),
        ]
        for (code, message, place) in cases {
            guard let e = error(code) else { XCTFail("\(code) was accepted"); continue }
            XCTAssertTrue(e.value.contains(message), "\(code): \(e.value)")
            XCTAssertTrue(e.traceback.joined(separator: "\n").contains(place), "\(code): \(e.traceback)")
        }
        XCTAssertEqual(error("prune m x:4")?.name, "NameError")
    }

    func decode(_ path: String) throws -> [String: Tensor] {
        try SafeTensors.decode([UInt8](Data(contentsOf: URL(fileURLWithPath: path))), source: path).tensors
    }
}
