import Foundation
import LoomCore
import LoomEngine
import LoomLang
import XCTest

/// `compare` of sparse coders: dictionaries, autoencoders and LISTA models
/// on the same data, their figures against hand-computed values.
final class CoderComparisonTests: LoomTestCase {
    var folder = ""

    override func setUp() {
        super.setUp()
        folder = NSTemporaryDirectory() + "loom-coders-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: folder)
        super.tearDown()
    }

    /// Three signals (3, 0, 0), (0, 2, 1), (1, 1, 0), of squared norms 9, 5
    /// and 2 (16 in all); D's atoms e₁, e₂, e₃ and (0.6, 0.8, 0); I's e₁, e₂, e₃.
    var handCase: String {
        FileManager.default.createFile(atPath: folder + "/d.csv", contents: Data("3,0,0\n0,2,1\n1,1,0\n".utf8))
        FileManager.default.createFile(atPath: folder + "/atoms.csv", contents: Data("1,0,0\n0,1,0\n0,0,1\n0.6,0.8,0\n".utf8))
        FileManager.default.createFile(atPath: folder + "/eye.csv", contents: Data("1,0,0\n0,1,0\n0,0,1\n".utf8))
        return """
            data d = csv "\(folder)/d.csv" label none
            dictionary D = csv "\(folder)/atoms.csv"
            dictionary I = csv "\(folder)/eye.csv"
            model L {
              input 3
              lista 1 from I alpha 0.5
            }
            model ae {
              input 3
              dense 3 relu as code
              dense 3
            }

            """
    }

    func number(_ expression: String) -> Double { Double(value(expression) ?? "") ?? .nan }

    /// Sets `ae`'s weights: the code units are relu(x₀), relu(x₁) and
    /// relu(−x₀ − x₁ − x₂) (never on for these signals), the decoder gives
    /// back the first two and drops the third.
    func setAutoencoderWeights() throws {
        guard case .object(let state as ModelState)? = loom.session["ae"] else { throw XCTSkip("no model ae") }
        let encoder = state.model.blocks[0].main.parameters, decoder = state.model.blocks[1].main.parameters
        encoder[0].value.storage = [1, 0, -1, 0, 1, -1, 0, 0, -1]
        decoder[0].value.storage = [1, 0, 0, 0, 1, 0, 0, 0, 0]
        for bias in [encoder[1], decoder[1]] { bias.value.storage = [0, 0, 0] }
    }

    func testOMPAndThresholdingFiguresAreTheHandComputedOnes() {
        // OMP, one atom: (3,0,0) by 3e₁ exactly; (0,2,1) by 2e₂, leaving 1; (1,1,0) by 1.4·(0.6,0.8,0), leaving 0.16² + 0.12².
        let omp = handCase + "r = compare D on d omp sparsity 1"
        guard case .ok = run(omp) else { return XCTFail("\(String(describing: error(omp)))") }
        XCTAssertEqual(number("r.D_error"), (1.04 / 16).squareRoot(), accuracy: 1e-6)
        XCTAssertEqual(number("r.D_nonzeros"), 1)
        XCTAssertEqual(number("r.D_dead"), 1, "e₃ codes nothing")
        XCTAssertGreaterThan(number("r.D_seconds"), 0)
        // Thresholding at 0 keeps every correlation: 2, 3 and 3 nonzeros; residuals 3.24, 2.56 and 1.96.
        guard case .ok = run("r = compare D on d threshold 0") else { return XCTFail() }
        XCTAssertEqual(number("r.D_error"), (7.76 / 16).squareRoot(), accuracy: 1e-6)
        XCTAssertEqual(number("r.D_nonzeros"), 8.0 / 3, accuracy: 1e-9)
        XCTAssertEqual(number("r.D_dead"), 0)
    }

    func testListaAndAutoencoderFiguresAreTheHandComputedOnes() throws {
        guard case .ok = run(handCase) else { return XCTFail("\(String(describing: error(handCase)))") }
        try setAutoencoderWeights()
        // One ISTA step over e₁, e₂, e₃ (L = 1): soft thresholding at 0.5, residuals 0.25, 0.5 and 0.5.
        // The autoencoder codes (3,0,0), (0,2,0), (1,1,0): 4 nonzeros in 3 codes, unit 3 dead; it loses x₂'s last value.
        let code = "r = compare L ae D on d omp sparsity 1"
        guard case .ok = run(code) else { return XCTFail("\(String(describing: error(code)))") }
        XCTAssertEqual(number("r.L_error"), (1.25 / 16).squareRoot(), accuracy: 1e-6)
        XCTAssertEqual(number("r.L_nonzeros"), 5.0 / 3, accuracy: 1e-9)
        XCTAssertEqual(number("r.L_dead"), 0)
        XCTAssertEqual(number("r.ae_error"), 0.25, accuracy: 1e-6)
        XCTAssertEqual(number("r.ae_nonzeros"), 4.0 / 3, accuracy: 1e-9)
        XCTAssertEqual(number("r.ae_dead"), 1)
        XCTAssertEqual(number("r.D_error"), (1.04 / 16).squareRoot(), accuracy: 1e-6)
        let table = texts().first { $0.contains("3 sparse coders on d") } ?? ""
        for row in ["lista 1 step", "autoencoder: code", "omp sparsity 1", "1 of 3", "1 of 4", "µs"] {
            XCTAssertTrue(table.contains(row), "\(row) in \(table)")
        }
        XCTAssertTrue(texts().contains { $0.contains("relative error by coder") }, "the bar chart")
        // The layer named as M.LAYER is the same code layer.
        guard case .ok = run("q = compare ae.code L on d") else { return XCTFail("\(String(describing: error("q = compare ae.code L on d")))") }
        XCTAssertEqual(number("q.ae_code_error"), 0.25, accuracy: 1e-6)
        XCTAssertEqual(number("q.ae_code_dead"), 1)
    }

    /// Without a named layer the code is the narrowest hidden layer, the last
    /// of equals: the `kwta` after a dense layer of the same width.
    func testAnAutoencodersCodeIsItsNarrowestHiddenLayer() {
        let code = handCase + """
            model k {
              input 3
              dense 8 relu
              dense 3 relu
              kwta 1
              dense 8 relu
              dense 3
            }
            compare k L on d
            """
        guard case .ok = run(code) else { return XCTFail("\(String(describing: error(code)))") }
        let table = texts().first { $0.contains("sparse coders on d") } ?? ""
        XCTAssertTrue(table.contains("autoencoder: kwta1"), table)
        guard case .ok = run("r = compare k L on d") else { return XCTFail() }
        XCTAssertLessThanOrEqual(number("r.k_nonzeros"), 1, "kwta 1 keeps one unit a sample at most")
    }

    /// A learned dictionary codes by what it was learned with, also once saved and loaded.
    func testALearnedDictionaryCodesAsItWasLearned() {
        let path = folder + "/k.safetensors"
        let code = """
            seed 1
            data pix = patches n 200 size 4
            dictionary K = learn pix atoms 8 sparsity 2 iterations 2
            codes C = encode pix with K omp sparsity 2
            r = compare K on pix
            save K "\(path)"
            load K2 "\(path)"
            r2 = compare K2 on pix
            """
        guard case .ok = run(code) else { return XCTFail("\(String(describing: error(code)))") }
        XCTAssertEqual(number("r.K_error"), number("C.error"))
        XCTAssertEqual(number("r2.K2_error"), number("C.error"))
        guard case .object(let codes as SessionCodes)? = loom.session["C"] else { return XCTFail() }
        XCTAssertEqual(number("r.K_nonzeros"), codes.codes.meanNonzeros)
        XCTAssertEqual(number("r.K_dead"), Double(codes.codes.usage.filter { $0 == 0 }.count))
        XCTAssertTrue(texts().contains { $0.contains("omp sparsity 2") && $0.contains("K2") })
    }

    func testCodersAndClassifiersAreNotMixedAndTheErrorSaysWhere() {
        let code = handCase + "model cnn {\n  input 3\n  dense 2 softmax\n}\ncompare D cnn on d omp sparsity 1"
        guard let e = error(code) else { return XCTFail("a classifier among coders") }
        XCTAssertTrue(e.value.contains("`cnn` is a classifier, not a sparse coder"), e.value)
        XCTAssertTrue(e.traceback.joined(separator: "\n").contains("line 17, column 11"), e.traceback.joined(separator: "\n"))
    }

    func testRefusalsNameTheProblem() {
        guard case .ok = run(handCase) else { return XCTFail("\(String(describing: error(handCase)))") }
        func message(_ line: String) -> String { error(line)?.value ?? "(no error)" }
        XCTAssertTrue(message("compare D L on d").contains("`D` was not learned here (read from"), message("compare D L on d"))
        XCTAssertTrue(message("compare L ae on d sparsity 2").contains("`sparsity` says how dictionaries code, and no dictionary is compared"))
        XCTAssertTrue(message("compare D on d omp sparsity 1 noise 10%").contains("`noise` goes with models compared as models"))
        XCTAssertTrue(message("compare ae.dense2 L on d").contains("the output layer of `ae`"), message("compare ae.dense2 L on d"))
        XCTAssertTrue(message("compare ae.nope L on d").contains("`ae` has no layer `nope`"), message("compare ae.nope L on d"))
        XCTAssertTrue(message("compare D d on d omp sparsity 1").contains("`d` is a data set, not a sparse coder"),
                      message("compare D d on d omp sparsity 1"))
        XCTAssertTrue(message("compare D on d omp sparsity 9").contains("sparsity 9 is more than the dictionary's 4 atoms"))
        run("data p = patches n 10 size 4")
        XCTAssertTrue(message("compare L D on p omp sparsity 1").contains("takes 3"), message("compare L D on p omp sparsity 1"))
        XCTAssertTrue(message("compare D L on p omp sparsity 1").contains("the atoms of `D` have 3"))
        // Models compared as models take no coder options.
        XCTAssertTrue(message("compare ae on d sparsity 2").contains("no dictionary is compared"))
    }
}
