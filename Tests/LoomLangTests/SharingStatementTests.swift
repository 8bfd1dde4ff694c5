import Foundation
import LoomCore
import LoomEngine
import LoomLang
import XCTest

/// `share LAYER` and `tied LAYER` through the language: one parameter for
/// every use, counted, pruned, saved and loaded once; the errors that name
/// both layers; `show atoms M.LAYER` and `show reconstructions`.
final class SharingStatementTests: LoomTestCase {
    /// An ALBERT-like stack: a projection, then one 16→16 layer used four times.
    let stack = """
        seed 3
        set progress off
        data g = glyphs n 60 size 8
        split g train 0.5
        model al {
          input 8x8x1
          flatten
          dense 16 relu as proj
          dense 16 relu as h1
          dense 16 relu share h1 as h2
          dense 16 relu share h1 as h3
          dense 16 relu share h1 as h4
          dense 10 softmax
        }
        """

    /// A tied autoencoder on 8x8 patches: the decoder multiplies by the encoder's kernel transposed.
    let tied = """
        seed 4
        set progress off
        data pix = patches n 200 size 8
        model ae {
          input 8x8x1
          flatten
          dense 16 tanh as enc
          dense 64 sigmoid tied enc as dec
          reshape 8x8x1
        }
        """

    var path: String { NSTemporaryDirectory() + "loom-sharing-\(name.filter(\.isLetter))" }

    func ok(_ code: String, file: StaticString = #filePath, line: UInt = #line) {
        if case .error(let e) = run(code) { XCTFail("\(e.value)", file: file, line: line) }
    }

    func model(_ name: String) -> Sequential? {
        guard case .object(let state as ModelState)? = loom.session[name] else { return nil }
        return state.model
    }

    func number(_ code: String) -> Double? { value(code).flatMap(Double.init) }

    func outputs(_ name: String, on data: String) -> [UInt32] {
        guard let m = model(name), case .object(let d as SessionDataset)? = loom.session[data] else { return [] }
        return m.predict(d.data.inputs).storage.map(\.bitPattern)
    }

    // MARK: counts

    /// Hand counts: proj 64·16 + 16 = 1,040; h1 16·16 + 16 = 272 (stored once,
    /// used four times); the output 16·10 + 10 = 170. Stored 1,482; unshared
    /// 1,040 + 4·272 + 170 = 2,298; sharing 2,298 ÷ 1,482 = 1.55×.
    func testAnALBERTStackStoresItsSharedLayerOnceAndSummaryShowsTheSharing() throws {
        ok(stack)
        let summary = try XCTUnwrap(texts().last)
        let rows = summary.split(separator: "\n")
        for name in ["h2", "h3", "h4"] {
            let row = try XCTUnwrap(rows.first { $0.contains(" \(name) ") }, summary)
            XCTAssertTrue(row.contains("shares h1"), String(row))
        }
        let total = try XCTUnwrap(rows.first { $0.contains("total") }, summary)
        XCTAssertTrue(total.contains("1,482") && total.contains("2,298") && total.contains("1.55×"), String(total))
        XCTAssertTrue(summary.contains("stored and counted once"), summary)
        XCTAssertEqual(number("al.params"), 1_482)
        let m = try XCTUnwrap(model("al"))
        XCTAssertEqual(m.parameters.count, 6)
        for i in 3...5 { XCTAssertTrue(zip(m.blocks[i].parameters, m.blocks[2].parameters).allSatisfy { $0 === $1 }) }

        // Training steps the one kernel; every use still holds the same object.
        ok("train al on g.train epochs 2\ncompare al on g.test")
        XCTAssertTrue(try XCTUnwrap(texts().last { $0.contains("sharing") }).contains("1.55×"))
        XCTAssertTrue(m.blocks[5].main.parameters[0] === m.blocks[2].main.parameters[0])
    }

    /// Tied: the encoder stores 64·16 + 16 = 1,040, the decoder its bias alone (64).
    func testATiedDecoderStoresOnlyItsBiasAndTrains() throws {
        ok(tied)
        let summary = try XCTUnwrap(texts().last)
        let decoder = try XCTUnwrap(summary.split(separator: "\n").first { $0.contains(" dec ") })
        XCTAssertTrue(decoder.contains("tied enc") && decoder.contains(" 64 "), String(decoder))
        XCTAssertEqual(number("ae.params"), 1_104)
        ok("before = evaluate ae on pix target inputs\ntrain ae on pix target inputs epochs 8 lr 0.01\nafter = evaluate ae on pix")
        XCTAssertLessThan(try XCTUnwrap(number("after.mse")), try XCTUnwrap(number("before.mse")))
        ok("show weights ae.dec")
        XCTAssertTrue(try XCTUnwrap(texts().last).contains("dec weights, 64x16 (enc's kernel, used transposed)"))
    }

    /// Pruning 50% per layer masks each kernel once: the shared one is one
    /// kernel of 256 weights (128 masked), not four; `nonzero` and `show
    /// sparsity` count the six stored parameters, not the twelve uses.
    func testPruningAndSparsityCountASharedKernelOnce() throws {
        ok(stack + "\nprune al 50%")
        let m = try XCTUnwrap(model("al"))
        let kernel = m.blocks[2].main.parameters[0]
        XCTAssertEqual(kernel.mask?.filter { $0 == 0 }.count, 128)
        XCTAssertTrue(m.blocks[4].main.parameters[0].mask == kernel.mask)
        XCTAssertEqual(m.parameters.count, 6)
        let zeros = m.parameters.reduce(0) { $0 + $1.zeroCount }
        XCTAssertEqual(number("al.nonzero"), Double(1_482 - zeros))
        ok("s = show sparsity al")
        XCTAssertEqual(try XCTUnwrap(number("s.weights * 1482")), Double(zeros), accuracy: 1e-6)
    }

    // MARK: save and load

    /// Saved with the sharing: one kernel for h1..h4 and the tied pair, the
    /// definition saying `share` and `tied`; loaded back sharing the same
    /// objects and predicting bit for bit as the original.
    func testSaveAndLoadKeepTheSharingAndPredictBitForBit() throws {
        ok(stack + "\ntrain al on g.train epochs 2\nsave al \"\(path)-al.safetensors\"\nload back \"\(path)-al.safetensors\"")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: "\(path)-al.safetensors"))
        let file = try SafeTensors.decode(Array(bytes), source: "al")
        XCTAssertEqual(file.tensors.keys.sorted(), ["dense6.bias", "dense6.kernel", "h1.bias", "h1.kernel", "proj.bias", "proj.kernel"])
        XCTAssertTrue(file.metadata["loom.definition"]?.contains("dense 16 relu share h1 as h2") ?? false)
        let loaded = try XCTUnwrap(model("back"))
        XCTAssertTrue(loaded.blocks[5].main.parameters[0] === loaded.blocks[2].main.parameters[0])
        XCTAssertEqual(loaded.parameterCount, 1_482)
        XCTAssertEqual(outputs("back", on: "g.test"), outputs("al", on: "g.test"))

        ok(tied + "\ntrain ae on pix target inputs epochs 2\nsave ae \"\(path)-ae.safetensors\"\nload ae2 \"\(path)-ae.safetensors\"")
        let ae = try XCTUnwrap(model("ae2"))
        XCTAssertTrue(ae.blocks[2].main.parameters[0] === ae.blocks[1].main.parameters[0])
        XCTAssertEqual(outputs("ae2", on: "pix"), outputs("ae", on: "pix"))
        ok("model c = copy ae")
        XCTAssertEqual(outputs("c", on: "pix"), outputs("ae", on: "pix"))
    }

    /// A file whose definition shares differently from its tensors is refused,
    /// naming the tensor and the layer, either way round.
    func testLoadingWeightsSavedWithOtherSharingIsAnError() throws {
        ok(stack + "\nsave al \"\(path)-shared.safetensors\"")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: "\(path)-shared.safetensors"))
        let file = try SafeTensors.decode(Array(bytes), source: "al")
        func write(_ definition: String, _ tensors: [String: Tensor], to name: String) throws {
            var metadata = file.metadata
            metadata["loom.definition"] = definition
            let encoded = SafeTensors.encode(tensors.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
                                             metadata: metadata.sorted { $0.key < $1.key })
            try Data(encoded).write(to: URL(fileURLWithPath: "\(path)-\(name).safetensors"))
        }
        let definition = try XCTUnwrap(file.metadata["loom.definition"])
        try write(definition.replacingOccurrences(of: " share h1", with: ""), file.tensors, to: "unshared")
        let missing = error("load u \"\(path)-unshared.safetensors\"")?.value ?? ""
        XCTAssertTrue(missing.contains("has no tensor h2.kernel: nothing of h2 is stored, as when it shares another layer's weights"),
                      missing)

        var extra = file.tensors
        extra["h3.kernel"] = file.tensors["h1.kernel"]
        extra["h3.bias"] = file.tensors["h1.bias"]
        try write(definition, extra, to: "extra")
        let stored = error("load x \"\(path)-extra.safetensors\"")?.value ?? ""
        XCTAssertTrue(stored.contains("stores h3.kernel, but h3 uses h1.kernel in this model"), stored)
        XCTAssertNil(loom.session["u"])
        XCTAssertNil(loom.session["x"])
    }

    // MARK: errors

    func testSharingErrorsNameBothLayersAndTheLine() throws {
        let mismatch = error("model bad {\n  input 8\n  dense 4 relu as h1\n  dense 3 relu share h1\n}")
        XCTAssertEqual(mismatch?.value, "`dense` does not fit here: dense2 cannot share h1's parameters: its kernel is 4x3, h1's kernel is 8x4")
        XCTAssertEqual(mismatch?.traceback[1], "  --> line 4, column 3")
        XCTAssertEqual(error("model bad {\n  input 8\n  dense 4 relu\n  dense 4 share h9\n}")?.value,
                       "`dense` does not fit here: dense2 shares the parameters of `h9`, but no layer before it is called `h9`")
        XCTAssertEqual(error("model bad {\n  input 4x3\n  lstm 3 sequences\n  conv1d 3 1 share lstm1\n}")?.value,
                       "`conv1d` does not fit here: conv1 cannot share lstm1's parameters: conv1 is conv1d, lstm1 is lstm")
        XCTAssertEqual(error("model bad {\n  input 6x6x1\n  conv2d 2 3x3\n  flatten\n  dense 8 tied conv1\n}")?.value,
                       "`dense` does not fit here: dense1 is tied to conv1, a conv2d layer: `tied` takes a dense layer's kernel")
        XCTAssertEqual(error("model bad {\n  input 8\n  dense 4\n  dense 5 tied dense1\n}")?.value,
                       "`dense` does not fit here: dense2 is tied to dense1's 8x4 kernel, so it needs 4 inputs and 8 units, not 4 and 5")
        let tiedConv = try XCTUnwrap(error("model bad {\n  input 6x6x1\n  conv2d 2 3x3 as c\n  conv2d 2 3x3 relu tied c\n}"))
        XCTAssertEqual(tiedConv.name, "SyntaxError")
        XCTAssertTrue(tiedConv.value.contains("`tied` belongs to `dense`"), tiedConv.value)
        XCTAssertEqual(error("model bad {\n  input 8\n  dense 4\n  flatten share dense1\n}")?.name, "SyntaxError")
        XCTAssertNil(loom.session["bad"])
    }

    /// conv1d and gru lines share through the language as dense ones do.
    func testConvolutionsAndRecurrentLayersShareThroughTheLanguage() throws {
        ok("model s {\n  input 6x3\n  conv1d 3 2 padding same as c\n  conv1d 3 2 padding same share c\n  gru 3 sequences as g\n"
           + "  gru 3 share g\n}")
        let m = try XCTUnwrap(model("s"))
        XCTAssertTrue(zip(m.blocks[1].parameters, m.blocks[0].parameters).allSatisfy { $0 === $1 })
        XCTAssertTrue(zip(m.blocks[3].parameters, m.blocks[2].parameters).allSatisfy { $0 === $1 })
        XCTAssertEqual(m.blocks.map(\.parameterCount)[1], 0)
        XCTAssertEqual(m.blocks.map(\.parameterCount)[3], 0)
    }

    // MARK: atoms and reconstructions

    func testShowAtomsDrawsEncoderRowsAndATiedDecodersColumns() throws {
        ok(tied + "\nshow atoms ae.enc first 4")
        let encoder = try XCTUnwrap(texts().last)
        XCTAssertTrue(encoder.hasPrefix("ae.enc: 16 units' weights from the 8x8x1 input (the first 4)"), encoder)
        XCTAssertTrue(encoder.contains("u4") && !encoder.contains("u5"), encoder)
        ok("show atoms ae.dec first 4")
        let decoder = try XCTUnwrap(texts().last)
        XCTAssertTrue(decoder.hasPrefix("ae.dec: 16 inputs' weights to the 8x8x1 output"), decoder)
        // The tied decoder's atoms are the encoder's: the same drawing under another title.
        func drawing(_ text: String) -> [Substring] { text.split(separator: "\n").filter { $0.hasPrefix("│") } }
        XCTAssertEqual(drawing(decoder), drawing(encoder))
        XCTAssertEqual(drawing(decoder).count, 8)

        XCTAssertTrue(error("show atoms ae.dense9")?.value.contains("has no layer `dense9`") ?? false)
        XCTAssertTrue(error("show atoms ae")?.value.contains("name one of its dense layers (ae.enc, ae.dec)") ?? false)
        ok("model deep {\n  input 8x8x1\n  flatten\n  dense 6\n  dense 5\n}")
        XCTAssertEqual(error("show atoms deep.dense2")?.value, "dense2 maps 6 values to 5, and the input has 64: atoms are drawn "
                       + "for a layer on the input (an encoder) or one whose outputs have the input's size (a decoder)")
        XCTAssertEqual(error("show atoms deep.flatten1")?.value, "flatten1 is a flatten layer; atoms are a dense layer's weights")
    }

    func testShowReconstructionsDrawsInputsBesideOutputs() throws {
        ok(tied + "\nshow reconstructions ae on pix first 3")
        let grid = try XCTUnwrap(texts().last)
        XCTAssertTrue(grid.hasPrefix("ae on pix: inputs (in) beside their reconstructions (out)"), grid)
        XCTAssertTrue(grid.contains("2 out") && !grid.contains("3 in"), grid)
        ok("model cls {\n  input 8x8x1\n  flatten\n  dense 10 softmax\n}")
        XCTAssertTrue(error("show reconstructions cls on pix")?.value.contains("to reconstruct them") ?? false)
    }
}
