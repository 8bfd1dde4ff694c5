import Foundation
import LoomCore
import LoomEngine
import LoomLang
import XCTest

/// `cluster M N [layer L]` and the compact files `save` writes: at most N
/// values per layer through training, pruned weights zero, files that
/// shrink and load back bit for bit, their size in `summary` and `compare`.
final class ClusterStatementTests: LoomTestCase {
    let path = "/tmp/loom-\(getpid())-cluster"
    override func tearDown() {
        for f in ["a", "b", "dense", "pruned"] { unlink("\(path)-\(f).safetensors") }
        super.tearDown()
    }

    let define = "seed 4\ndata g = glyphs n 200 size 8\nmodel m {\n  input 8x8x1\n  flatten\n  dense 24 relu\n  dense 10 softmax\n}"

    func state(_ name: String) -> ModelState? {
        guard case .object(let state as ModelState)? = loom.session[name] else { return nil }
        return state
    }

    func kernels(_ name: String) -> [(String, LoomEngine.Parameter)] {
        state(name)?.model.namedParameters.filter { $0.name.hasSuffix("kernel") }.map { ($0.name, $0.parameter) } ?? []
    }

    /// Everything a cell displays, as text.
    func shown(_ code: String) -> String {
        let before = out.displays.count
        run(code)
        return out.displays[before...].compactMap(\.plainText).joined(separator: "\n")
    }

    func ok(_ code: String, file: StaticString = #filePath, line: UInt = #line) {
        if case .error(let e) = run(code) { XCTFail("\(code): \(e)", file: file, line: line) }
    }

    func testClusteredLayersKeepAtMostNValuesThroughTrainingAndPrunedOnesStayZero() throws {
        for optimizer in ["sgd", "adam"] {
            setUp()
            ok(define + "\nquiet { train m on g epochs 2 }\nprune m 60%\ncluster m 4\nquiet { train m on g epochs 2 optimizer \(optimizer) }")
            for (name, p) in kernels("m") {
                let mask = try XCTUnwrap(p.mask)
                let kept = (0..<p.value.count).filter { mask[$0] != 0 }
                XCTAssertLessThanOrEqual(Set(kept.map { p.value[$0] }).count, 4, "\(name) with \(optimizer)")
                XCTAssertTrue((0..<p.value.count).allSatisfy { mask[$0] != 0 || p.value[$0] == 0 }, "\(name)")
            }
        }
    }

    /// Clustering adds a column to `summary`: at the default width of 80 the
    /// table still names every layer whole and cuts no number.
    func testASummaryWithClusteredValuesCutsNoName() {
        ok("model c {\n  input 28x28x1\n  conv2d 32 3x3 relu\n  maxpool 2\n  conv2d 64 3x3 relu\n  maxpool 2\n  flatten\n"
           + "  dropout 0.5\n  dense 10 softmax\n}")
        let text = shown("cluster c 16\nsummary c")
        let table = String(text[text.range(of: "Model c")!.lowerBound...])
        XCTAssertFalse(table.contains("…"), table)
        for name in ["conv1", "pool1", "conv2", "pool2", "flatten1", "dropout1", "dense1", "41,887,296", "16 × 4 bits"] {
            XCTAssertTrue(table.contains("│ \(name) ") || table.contains(" \(name) │"), "\(name) cut:\n\(table)")
        }
        for line in table.split(separator: "\n") where line.hasPrefix("│") || line.hasPrefix("┌") {
            XCTAssertLessThanOrEqual(line.count, 80, String(line))
        }
    }

    func testOneLayerAloneAndWhatTheReportsShow() throws {
        ok(define + "\ncluster m 3 layer dense2")
        XCTAssertNil(kernels("m")[0].1.clusters, "dense1 is left alone")
        XCTAssertEqual(kernels("m")[1].1.clusters?.centroids.count, 3)
        ok("summary m")
        XCTAssertTrue(texts().last!.contains("3 × 2 bits"), texts().last!)
        ok("show histogram m.dense2")
        XCTAssertTrue(texts().last!.contains("weights per shared value (3 values)"), texts().last!)
        ok("show weights m.dense2")
        XCTAssertTrue(texts().last!.hasPrefix("dense2's 3 shared values (2 bits an index): "), texts().last!)
        XCTAssertEqual(error("cluster m 3 layer dense9")?.value.contains("has no layer `dense9`"), true)
        XCTAssertNotNil(error("cluster m 0"))
    }

    /// Pruned, clustered, and both: saved, loaded, predicting bit for bit.
    func testSavedAndLoadedModelsPredictBitForBit() throws {
        for steps in ["prune m 80%", "cluster m 8", "prune m 80%\ncluster m 8"] {
            setUp()
            ok(define + "\nquiet { train m on g epochs 1 }\n\(steps)\nquiet { train m on g epochs 1 }")
            ok("save m \"\(path)-a.safetensors\"\nload n \"\(path)-a.safetensors\"")
            let (m, n) = (try XCTUnwrap(state("m")), try XCTUnwrap(state("n")))
            guard case .object(let g as SessionDataset)? = loom.session["g"] else { return XCTFail("no data") }
            let data = g.data
            XCTAssertEqual(m.model.predict(data.inputs), n.model.predict(data.inputs), steps)
            for (a, b) in zip(m.model.parameters, n.model.parameters) {
                XCTAssertEqual(a.value, b.value, steps)
                XCTAssertEqual(a.mask, b.mask, steps)
                XCTAssertEqual(a.clusters?.centroids, b.clusters?.centroids, steps)
            }
            // The loaded model keeps training as a clustered one.
            ok("quiet { train n on g epochs 1 }")
            if steps.contains("cluster") {
                for (_, p) in kernels("n") { XCTAssertLessThanOrEqual(Set(p.value.storage.filter { $0 != 0 }).count, 8) }
            }
        }
    }

    /// `summary`'s stored bytes are the file `save` writes, which shrinks with pruning.
    func testStoredBytesAreTheSizeOfTheSavedFile() throws {
        func storedBytes() throws -> Int {
            ok("summary m")
            let line = texts().last!.replacingOccurrences(of: "\n", with: " ")
            let digits = try XCTUnwrap(line.range(of: #"writes it: [0-9,]+ bytes"#, options: .regularExpression))
            return Int(line[digits].filter(\.isNumber))!
        }
        func size(_ f: String) throws -> Int { try XCTUnwrap(FileManager.default.attributesOfItem(atPath: f)[.size] as? Int) }
        ok(define + "\nsave m \"\(path)-dense.safetensors\"")
        XCTAssertEqual(try storedBytes(), try size("\(path)-dense.safetensors"))
        ok("prune m 95%\nsave m \"\(path)-pruned.safetensors\"")
        XCTAssertEqual(try storedBytes(), try size("\(path)-pruned.safetensors"))
        XCTAssertLessThan(try size("\(path)-pruned.safetensors"), try size("\(path)-dense.safetensors") / 4)
        ok("model d = copy m\ncompare m d on g")
        let table = texts().first { $0.contains("stored bytes") } ?? ""
        XCTAssertTrue(table.contains(NumberFormatCheck.grouped(try size("\(path)-pruned.safetensors"))), table)
    }

    /// `M.bytes` is the file `save` writes, so `record` can follow it through pruning and clustering.
    func testAModelsBytesAreTheSizeOfTheFileSaveWrites() throws {
        func size(_ f: String) throws -> Int { try XCTUnwrap(FileManager.default.attributesOfItem(atPath: f)[.size] as? Int) }
        ok(define + "\nsave m \"\(path)-dense.safetensors\"")
        XCTAssertEqual(value("m.bytes"), String(try size("\(path)-dense.safetensors")))
        ok("prune m 90%\ncluster m 4\nsave m \"\(path)-pruned.safetensors\"")
        XCTAssertEqual(value("m.bytes"), String(try size("\(path)-pruned.safetensors")))
        XCTAssertLessThan(try size("\(path)-pruned.safetensors"), try size("\(path)-dense.safetensors") / 4)
    }

    /// A best epoch restored brings its centroids back with its weights, so
    /// training on keeps the weights it restored.
    func testRestoringTheBestEpochRestoresItsCentroids() throws {
        // Tanh units and a large step: epoch 2 is worse, so epoch 1's weights come back (checked with `show h`).
        ok(define.replacingOccurrences(of: "relu", with: "tanh") + "\ncluster m 4\n"
           + "quiet { h = train m on g epochs 8 validate g patience 1 restore optimizer sgd lr 0.5 }")
        XCTAssertTrue(shown("show h").contains("the weights are those of epoch 1"))
        for (name, p) in kernels("m") {
            let clusters = try XCTUnwrap(p.clusters)
            XCTAssertEqual(p.value.storage, clusters.assignment.map { clusters.centroids[Int($0)] }, name)
        }
    }

    func testACopyKeepsItsClustersAndRewindLiftsThem() throws {
        ok(define + "\ncluster m 5\nmodel c = copy m")
        XCTAssertEqual(kernels("c")[0].1.clusters?.centroids, kernels("m")[0].1.clusters?.centroids)
        ok("rewind m")
        XCTAssertNil(kernels("m")[0].1.clusters)
        XCTAssertTrue(texts().last!.contains("their clusters lifted"), texts().last!)
    }

    func testAFileWithACodePastItsCodebookIsRefused() throws {
        ok(define + "\ncluster m 3\nsave m \"\(path)-a.safetensors\"")
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(path)-a.safetensors")))
        let file = try SafeTensors.read(bytes, source: "a")
        guard case .bytes(let codes) = try XCTUnwrap(file.tensors["dense1.kernel.codes"]) else { return XCTFail("codes are U8") }
        // Codes of 2 bits over 3 values: 0b11 everywhere names a fourth.
        let at = try XCTUnwrap(bytes.indices.first { bytes[$0..<($0 + codes.count)].elementsEqual(codes) })
        for i in at..<(at + codes.count) { bytes[i] = 0xFF }
        try Data(bytes).write(to: URL(fileURLWithPath: "\(path)-b.safetensors"))
        let message = error("load n \"\(path)-b.safetensors\"")?.value ?? ""
        XCTAssertTrue(message.contains("dense1.kernel.codes holds 3, past its codebook of 3 values"), message)
        XCTAssertNil(loom.session["n"])
    }
}
