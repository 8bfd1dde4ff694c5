import Foundation
import LoomCore
import LoomEngine
import LoomLang
import XCTest

/// What `save`, `load` and `copy` keep beyond the weights: layer state
/// (k-winners' duty cycles), pruning rounds, and what `rewind` and a
/// checkpoint may truthfully claim.
final class SavedStateTests: LoomTestCase {
    let path = NSTemporaryDirectory() + "loom-saved-state-\(getpid())"

    override func tearDown() {
        for suffix in ["", "-old"] { unlink("\(path)\(suffix).safetensors") }
        super.tearDown()
    }

    let boosted = """
        seed 5
        data g = glyphs n 160 size 8
        split g train 0.5
        model m {
          input 8x8x1
          flatten
          dense 32 relu
          kwta 4 boost 2
          dense 10 softmax
        }
        train m on g.train epochs 3
        """

    /// Runs `code`, failing the test with its error if it fails.
    func ok(_ code: String, line: UInt = #line) {
        if case .error(let e) = run(code) { XCTFail("\(e.name): \(e.value)", line: line) }
    }

    /// Everything a cell shows, its displays and its value, as text.
    func shown(_ code: String) -> String {
        let before = out.displays.count
        let result = run(code)
        var text = out.displays[before...].compactMap(\.plainText)
        if case .ok(let bundle?) = result, let value = bundle.plainText { text.append(value) }
        if case .error(let e) = result { text.append("\(e.name): \(e.value)") }
        return text.joined(separator: "\n")
    }

    /// The file `save` wrote at `path`.
    func savedFile() throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        try SafeTensors.decode([UInt8](Data(contentsOf: URL(fileURLWithPath: "\(path).safetensors"))), source: path)
    }

    /// Writes `tensors` and `metadata` beside it, as an older or a damaged file.
    func writeOld(_ tensors: [String: Tensor], _ metadata: [String: String]) throws {
        let bytes = SafeTensors.encode(tensors.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
                                       metadata: metadata.sorted { $0.key < $1.key })
        try Data(bytes).write(to: URL(fileURLWithPath: "\(path)-old.safetensors"))
    }

    func model(_ name: String) -> Sequential? {
        guard case .object(let state as ModelState)? = loom.session[name] else { return nil }
        return state.model
    }

    /// Every layer's state, by its saved name.
    func state(_ name: String) -> [String: [Float]] {
        Dictionary(uniqueKeysWithValues: (model(name)?.namedState ?? []).map { ($0.name, $0.state.value.storage) })
    }

    /// The model's outputs on the test half, as bit patterns.
    func outputs(_ name: String) -> [UInt32] {
        guard let m = model(name), case .object(let data as SessionDataset)? = loom.session["g.test"] else { return [] }
        return m.predict(data.data.inputs).storage.map(\.bitPattern)
    }

    /// A boosted k-winners layer chooses its winners by its duty cycles: a
    /// loaded model and a copy hold the same duty cycles and compute the
    /// same outputs as the original, bit for bit.
    func testBoostedKWinnersLoadAndCopyComputeExactlyAsTheOriginal() throws {
        ok(boosted + "\nsave m \"\(path).safetensors\"\nload n \"\(path).safetensors\"\nmodel c = copy m")
        let duty = try XCTUnwrap(state("m")["kwta1.duty_cycles"])
        XCTAssertTrue(duty.contains { $0 > 0 }, "training moved the duty cycles")
        XCTAssertEqual(state("m")["kwta1.duty_samples"], [240], "80 samples a step, three epochs")
        for copy in ["n", "c"] {
            XCTAssertEqual(state(copy), state("m"), copy)
            XCTAssertEqual(outputs(copy), outputs("m"), copy)
        }
        XCTAssertEqual(value("r = evaluate m on g.test\nr.loss"), value("r = evaluate n on g.test\nr.loss"))
        // A fresh copy starts its state afresh with its weights.
        run("model f = copy m fresh")
        XCTAssertEqual(state("f")["kwta1.duty_cycles"], [Float](repeating: 0, count: 32))
    }

    /// A file saved before layers' state was kept loads, the state as built;
    /// a file whose state is out of range is refused, naming the tensor.
    func testFilesWithoutStateLoadAndBadStateIsRefused() throws {
        ok(boosted + "\nsave m \"\(path).safetensors\"")
        let saved = try savedFile()
        try writeOld(saved.tensors.filter { !$0.key.hasPrefix("kwta1.") }, saved.metadata)
        ok("load old \"\(path)-old.safetensors\"")
        XCTAssertEqual(state("old")["kwta1.duty_cycles"], [Float](repeating: 0, count: 32))
        XCTAssertEqual(model("old")?.parameters.map(\.value.storage), model("m")?.parameters.map(\.value.storage))
        var bad = saved.tensors
        bad["kwta1.duty_cycles"] = Tensor(shape: [32], repeating: 2)
        try writeOld(bad, saved.metadata)
        let e = error("load bad \"\(path)-old.safetensors\"")
        XCTAssertEqual(e?.name, "ValueError")
        XCTAssertTrue(e?.value.contains("kwta1.duty_cycles must be 32 values from 0") ?? false, e?.value ?? "")
        XCTAssertNil(loom.session["bad"])
    }

    /// A model trained to reconstruct its inputs is measured that way after
    /// `load`, with its loss, as before `save`.
    func testALoadedAutoencoderStillMeasuresReconstructions() {
        ok("""
            seed 4
            data pix = patches n 64 size 6
            model ae {
              input 6x6x1
              flatten
              dense 12 relu
              dense 36 sigmoid
              reshape 6x6x1
            }
            train ae on pix target inputs loss bce epochs 2
            save ae "\(path).safetensors"
            load back "\(path).safetensors"
            """)
        let original = shown("evaluate ae on pix"), loaded = shown("evaluate back on pix")
        XCTAssertTrue(original.contains("loss (bce)"), original)
        XCTAssertEqual(loaded.replacingOccurrences(of: "back on", with: "ae on"), original)
    }

    let pruned = """
        seed 2
        data g = glyphs n 120 size 8
        model p {
          input 8x8x1
          flatten
          dense 32 relu
          dense 10 softmax
        }
        train p on g epochs 1
        evaluate p on g
        prune p 80%
        evaluate p on g
        """

    /// A saved model keeps its pruning rounds: `show pruning` of the loaded
    /// model is the original's. A file without them says what its masks
    /// hold rather than that the model was never pruned.
    func testPruningRoundsAreSavedAndLoaded() throws {
        ok(pruned + "\nsave p \"\(path).safetensors\"\nload q \"\(path).safetensors\"")
        let original = shown("show pruning p"), loaded = shown("show pruning q")
        XCTAssertTrue(original.contains("pruning rounds of p") && original.contains("│     1 │"), original)
        XCTAssertEqual(loaded.replacingOccurrences(of: "rounds of q", with: "rounds of p"), original)
        ok("model c = copy q")
        XCTAssertEqual(shown("show pruning c").replacingOccurrences(of: "rounds of c", with: "rounds of p"), original)

        let saved = try savedFile()
        try writeOld(saved.tensors, saved.metadata.filter { $0.key != "loom.pruning" })
        ok("load old \"\(path)-old.safetensors\"")
        let zeros = Double(try XCTUnwrap(model("old")).parameters.reduce(0) { $0 + $1.zeroCount })
            / Double(try XCTUnwrap(model("old")).parameterCount)
        XCTAssertEqual(shown("show pruning old"), "`old` has no pruning rounds recorded; its masks leave "
                       + String(format: "%.1f%%", zeros * 100) + " of its weights and biases zero. `prune old 50%` starts a schedule")
        XCTAssertGreaterThan(zeros, 0.75)
        ok("model u {\n  input 4\n  dense 2 softmax\n}")
        XCTAssertEqual(shown("show pruning u"),
                       "`u` has not been pruned yet: `prune u 50%` starts a schedule")
    }

    /// Each round's nonzero count travels with the file (the x axis of
    /// `show pruning`); rounds saved before counts were kept read without one.
    func testPruningRoundsKeepTheirNonzeroCounts() throws {
        ok(pruned + "\nsave p \"\(path).safetensors\"\nload q \"\(path).safetensors\"")
        func counts(_ name: String) -> [Int?] {
            guard case .object(let state as ModelState)? = loom.session[name] else { return [] }
            return state.pruning.map(\.nonzeroParameters)
        }
        let original = counts("p")
        XCTAssertEqual(original.count, 2)
        XCTAssertTrue(original.allSatisfy { $0 != nil }, "\(original)")
        XCTAssertEqual(counts("q"), original)
        XCTAssertEqual(original.last!, try XCTUnwrap(model("q")).nonzeroParameters, "the last round is the model as loaded")

        let saved = try savedFile()
        var metadata = saved.metadata
        metadata["loom.pruning"] = metadata["loom.pruning"]!.replacingOccurrences(of: #","nonzero":[0-9]+"#, with: "",
                                                                                options: .regularExpression)
        XCTAssertFalse(metadata["loom.pruning"]!.contains("nonzero"))
        try writeOld(saved.tensors, metadata)
        ok("load old \"\(path)-old.safetensors\"")
        XCTAssertEqual(counts("old"), [nil, nil])
        metadata["loom.pruning"] = #"[{"sparsity":0.5,"nonzero":-3}]"#
        try writeOld(saved.tensors, metadata)
        XCTAssertTrue(shown("load bad \"\(path)-old.safetensors\"").contains("pruning rounds (loom.pruning) do not read"))
    }

    /// A saved file holds trained weights, not initial ones: `rewind` of a
    /// loaded model (or a copy of one) is refused, naming why, and changes
    /// nothing; a fresh copy has initial weights of its own to rewind to.
    func testRewindAfterLoadIsRefused() throws {
        ok(pruned + "\nsave p \"\(path).safetensors\"\nload q \"\(path).safetensors\"\nmodel c = copy q")
        let before = model("q")?.parameters.map(\.value.storage)
        for name in ["q", "c"] {
            let e = error("rewind \(name)")
            XCTAssertEqual(e?.name, "ValueError", name)
            XCTAssertTrue(e?.value.contains("`\(name)` has no initial weights to rewind to: it was loaded") ?? false, e?.value ?? "")
        }
        XCTAssertEqual(model("q")?.parameters.map(\.value.storage), before, "a refused rewind leaves the weights")
        run("model f = copy q fresh")
        let initial = try XCTUnwrap(model("f")?.parameters.map(\.value.storage))
        ok("train f on g epochs 1\nrewind f")
        XCTAssertEqual(model("f")?.parameters.map(\.value.storage), initial)
    }
}

/// `train … checkpoint PATH` checks PATH before any epoch, and notes the
/// epoch a checkpoint holds only once it was written.
final class CheckpointPathTests: LoomTestCase {
    let setup = """
        seed 3
        data g = glyphs n 40 size 8
        model m {
          input 8x8x1
          flatten
          dense 10 softmax
        }
        """

    func testACheckpointThatCannotBeWrittenIsRefusedBeforeTraining() {
        run(setup)
        let folder = NSTemporaryDirectory() + "loom-checkpoint-folder-\(getpid())", file = folder + ".txt"
        mkdir(folder, 0o755)
        XCTAssertTrue(FileManager.default.createFile(atPath: file, contents: Data("x".utf8)))
        defer { rmdir(folder); unlink(file) }
        let cases = ["/nonexistent-folder-\(getpid())/m.safetensors": "there is no folder /nonexistent-folder-\(getpid())",
                     "\(file)/m.safetensors": "\(file) is not a folder",
                     folder: "it is a folder, FIFO or device, not a file"]
        for (path, reason) in cases {
            let e = error("train m on g epochs 2 checkpoint \"\(path)\"")
            XCTAssertEqual(e?.name, "IOError", path)
            XCTAssertEqual(e?.value, "cannot write the checkpoint \(path): \(reason)")
        }
        XCTAssertEqual(value("m.epochs"), "0", "no epoch ran")
        XCTAssertFalse(texts().contains { $0.contains("epoch") }, "no history table nor note: \(texts())")
    }

    /// A name the folder accepts but whose write fails (no room beside it
    /// for the temporary file): the note claims the epoch only if the file
    /// is there.
    func testTheNoteClaimsOnlyACheckpointThatWasWritten() {
        run(setup)
        let path = NSTemporaryDirectory() + String(repeating: "c", count: 250)
        defer { unlink(path) }
        let result = run("train m on g epochs 1 checkpoint \"\(path)\"")
        let written = access(path, F_OK) == 0
        let noted = texts().contains { $0.contains("holds epoch 1") }
        XCTAssertEqual(noted, written, "\(result)")
        guard !written else { return }
        guard case .error(let e) = result else { return XCTFail("a checkpoint that was not written is an error") }
        XCTAssertEqual(e.name, "IOError")
    }
}
