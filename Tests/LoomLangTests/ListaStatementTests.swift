import Foundation
import LoomCore
import LoomEngine
import LoomLang
import LoomRender
import XCTest

/// LISTA and the KL sparse autoencoder through the language.
final class ListaStatementTests: LoomTestCase {
    let pix = """
        seed 2
        data pix = patches n 300 size 6
        dictionary D = learn pix atoms 20 sparsity 3 iterations 3
        codes C = encode pix with D fista alpha 0.05 iterations 200
        model L {
          input 6x6x1
          lista 3 from D alpha 0.05
        }

        """

    func codes(_ name: String) throws -> SessionCodes {
        guard case .object(let object)? = loom.session[name], let codes = object as? SessionCodes else {
            throw XCTSkip("`\(name)` holds no codes")
        }
        return codes
    }

    func number(_ expression: String) -> Double { Double(value(expression) ?? "") ?? .nan }

    func testAnUntrainedListaModelCodesAsIstaAndKeepsItsCodesAsCodes() throws {
        let code = pix + "codes I = encode pix with D ista alpha 0.05 iterations 3 tolerance 0\ncodes E = encode pix with L"
        guard case .ok = run(code) else { return XCTFail("\(String(describing: error(code)))") }
        let lista = try codes("E"), ista = try codes("I")
        XCTAssertEqual(lista.codes.values, ista.codes.values)
        XCTAssertEqual(lista.coder, "lista 3 steps (L)")
        XCTAssertTrue(lista.dictionary === ista.dictionary, "the session's D, while it holds the atoms L started from")
        XCTAssertEqual(number("E.error"), number("I.error"))
        guard case .ok = run("show codes E") else { return XCTFail() }
        XCTAssertTrue(texts().contains { $0.contains("coded over D by lista 3 steps (L)") })
    }

    func testTrainingOnCodesBringsListasCodesNearerThem() throws {
        let code = pix + """
            codes E0 = encode pix with L
            h = train L on pix target C epochs 40 batch 16 lr 0.003
            codes E = encode pix with L
            """
        guard case .ok = run(code) else { return XCTFail("\(String(describing: error(code)))") }
        let target = try codes("C").codes.values
        func distance(_ name: String) throws -> Double {
            let values = try codes(name).codes.values
            return zip(values, target).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }
        }
        let before = try distance("E0"), after = try distance("E")
        XCTAssertLessThan(after, 0.7 * before, "squared distance to the lasso's codes: \(before) before, \(after) after")
        XCTAssertEqual(number("h.epochs"), 40)
    }

    /// `loss lasso` needs no codes: the objective of L's codes of pix falls.
    func testTrainingOnTheLassoObjectiveLowersItWithoutTargetCodes() throws {
        let code = pix + """
            codes E0 = encode pix with L
            h = train L on pix loss lasso epochs 10 batch 16 lr 0.003 validate pix
            codes E = encode pix with L
            """
        guard case .ok = run(code) else { return XCTFail("\(String(describing: error(code)))") }
        func objective(_ name: String) throws -> Double {
            let c = try codes(name)
            let z = Tensor(shape: [c.codes.samples, c.codes.atoms], storage: c.codes.values)
            return LassoObjective(dictionary: c.dictionary.dictionary, alpha: 0.05)
                .evaluate(codes: z, signals: c.signals, withGradient: false).loss
        }
        let before = try objective("E0"), after = try objective("E")
        XCTAssertLessThan(after, 0.95 * before, "the mean objective: \(before) untrained, \(after) trained")
        XCTAssertEqual(number("h.epochs"), 10)
        XCTAssertEqual(number("h.val_loss"), after, accuracy: 1e-5 * after, "validation's loss is the objective")
    }

    /// `evaluate` of a model trained with `loss lasso` reports the lasso
    /// objective of its codes of the data (what validation reports), with no
    /// targets asked for, and a saved and loaded copy still does.
    func testEvaluatingAModelTrainedOnTheLassoReportsTheObjective() throws {
        let path = NSTemporaryDirectory() + "loom-lista-lasso-\(getpid()).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let code = pix + """
            h = train L on pix loss lasso epochs 2 batch 16 lr 0.003
            codes E = encode pix with L
            r = evaluate L on pix
            save L "\(path)"
            load L2 "\(path)"
            r2 = evaluate L2 on pix
            """
        guard case .ok = run(code) else { return XCTFail("\(String(describing: error(code)))") }
        let c = try codes("E")
        let z = Tensor(shape: [c.codes.samples, c.codes.atoms], storage: c.codes.values)
        let objective = LassoObjective(dictionary: c.dictionary.dictionary, alpha: 0.05)
            .evaluate(codes: z, signals: c.signals, withGradient: false).loss
        XCTAssertEqual(number("r.loss"), objective, accuracy: 1e-5 * objective)
        XCTAssertEqual(number("r2.loss"), number("r.loss"))
        XCTAssertEqual(number("r.samples"), 300)
        XCTAssertNil(value("r.accuracy"))
        XCTAssertNil(value("r.mse"))
        guard case .ok(let table) = run("evaluate L on pix") else { return XCTFail() }
        // The table is shown, or is the cell's result.
        let text = ([table?.plainText ?? ""] + texts()).joined(separator: "\n")
        XCTAssertTrue(text.contains("loss (lasso)") && !text.contains("confusion"), text)
    }

    /// Saved codes load as a data set of their values, in order, so another
    /// program can measure them against a solver's.
    func testSavedCodesLoadAsADataSetOfTheirValues() throws {
        let path = NSTemporaryDirectory() + "loom-codes-\(getpid()).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        guard case .ok = run(pix + "save C \"\(path)\"\nload Z \"\(path)\"") else { return XCTFail() }
        guard case .object(let z as SessionDataset)? = loom.session["Z"] else { return XCTFail("Z is not a data set") }
        let c = try codes("C")
        XCTAssertEqual(z.data.inputs.shape, [300, 20])
        XCTAssertEqual(z.data.inputs.storage, c.codes.values)
    }

    func testLassoTrainingRefusalsNameTheProblem() {
        let withTarget = error(pix + "train L on pix loss lasso target C")?.value ?? ""
        XCTAssertTrue(withTarget.contains("leave out `target C`"), withTarget)
        let dense = error(pix + "model M {\n  input 6x6x1\n  flatten\n  dense 20\n}\ntrain M on pix loss lasso")?.value ?? ""
        XCTAssertTrue(dense.contains("`M` does not end with a `lista` layer"), dense)
        let before = error(pix + "model M {\n  input 6x6x1\n  flatten\n  dense 36\n  lista 2 from D\n}\ntrain M on pix loss lasso")?.value ?? ""
        XCTAssertTrue(before.contains("only `flatten` or `reshape` may come before the `lista` layer, and `M` has `dense"), before)
    }

    func testSummaryShowsStoredAndUnrolledParameters() {
        guard case .ok(let last) = run(pix + "summary L") else { return XCTFail("\(String(describing: error(pix)))") }
        let table = last?.plainText ?? texts().joined(separator: "\n")
        let stored = 20 * 36 + 20 * 20 + 1
        let row = table.split(separator: "\n").first { $0.contains("lista1") } ?? ""
        XCTAssertTrue(row.contains(NumberFormat.grouped(stored)), String(row))
        XCTAssertTrue(row.contains(NumberFormat.grouped(3 * stored)), String(row))
        XCTAssertTrue(table.contains("unrolled"), table)
    }

    func testListaRefusalsNameTheProblem() {
        XCTAssertTrue(error(pix + "model M {\n  input 6x6x1\n  lista 3 from pix\n}")?.value.contains("`pix` is a data set, not a dictionary") ?? false)
        let centred = "seed 1\ndata p = patches n 50 size 4\ndictionary Z = learn p atoms 6 sparsity 2 iterations 2 center\n"
            + "model M {\n  input 4x4x1\n  lista 2 from Z\n}"
        XCTAssertTrue(error(centred)?.value.contains("learned with `center`") ?? false, "\(String(describing: error(centred)))")
        XCTAssertTrue(error(pix + "model M {\n  input 5x5x1\n  lista 2 from D\n}")?.value.contains("36 values") ?? false)
        let notLista = pix + "model M {\n  input 6x6x1\n  flatten\n  dense 20\n}\ncodes E = encode pix with M"
        XCTAssertTrue(error(notLista)?.value.contains("does not end with a `lista` layer") ?? false)
        XCTAssertTrue(error(pix + "codes E = encode pix with L sparsity 3")?.value.contains("`sparsity` goes with a dictionary") ?? false)
        let fewer = pix + "data few = patches n 10 size 6\ntrain L on few target C"
        XCTAssertTrue(error(fewer)?.value.contains("holds 300 codes but `few` has 10 samples") ?? false,
                      "\(String(describing: error(fewer)))")
    }

    func testAKLSparseAutoencoderTrainsWithItsPenaltyInTheHistory() {
        let code = """
            seed 3
            data pix = patches n 200 size 6
            model ae {
              input 6x6x1
              flatten
              dense 16 sigmoid
              activity kl 0.05 weight 3
              dense 36 sigmoid
              reshape 6x6x1
            }
            h = train ae on pix target inputs epochs 3 batch 32
            """
        guard case .ok = run(code) else { return XCTFail("\(String(describing: error(code)))") }
        XCTAssertTrue(texts().contains { $0.contains("penalty") }, "the history's penalty column")
        XCTAssertEqual(Layers.definition(of: ActivitySpec(penalty: .kl, amount: 0.05, weight: 3)), "activity kl 0.05 weight 3.0")
        XCTAssertEqual(Layers.definition(of: ActivitySpec(penalty: .l1, amount: 0.001)), "activity l1 0.001")
    }

    func testShowActivationsCountsDeadAndAlwaysOnCodeUnits() {
        let code = """
            seed 3
            data pix = patches n 100 size 6
            model k {
              input 6x6x1
              flatten
              dense 24 relu
              kwta 3
              dense 36 sigmoid
              reshape 6x6x1
            }
            train k on pix target inputs epochs 1
            show activations k.kwta1 on pix
            """
        guard case .ok(let last) = run(code) else { return XCTFail("\(String(describing: error(code)))") }
        let text = (texts() + [last?.plainText ?? ""]).joined(separator: "\n")
        XCTAssertTrue(text.contains("of 24 units"), text)
        XCTAssertTrue(text.contains("dead (zero for every sample)"), text)
    }

    /// A saved LISTA model carries the atoms it started from: loaded (or
    /// copied) with no dictionary in the session, it codes as before, its
    /// codes' error still measured through those atoms.
    func testALoadedListaModelNeedsNoDictionaryInTheSession() throws {
        let path = NSTemporaryDirectory() + "loom-lista-\(getpid()).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let code = pix + """
            train L on pix target C epochs 2 batch 32
            codes E = encode pix with L
            save L "\(path)"
            delete D
            load L2 "\(path)"
            model L3 = copy L2
            codes E2 = encode pix with L2
            codes E3 = encode pix with L3
            """
        guard case .ok = run(code) else { return XCTFail("\(String(describing: error(code)))") }
        let saved = try codes("E"), loaded = try codes("E2"), copied = try codes("E3")
        XCTAssertEqual(loaded.codes.values, saved.codes.values)
        XCTAssertEqual(copied.codes.values, saved.codes.values)
        XCTAssertEqual(loaded.dictionary.dictionary, saved.dictionary.dictionary)
        XCTAssertEqual(number("E2.error"), number("E.error"))
        // A file whose starting atoms are not atoms × values is refused by name.
        guard case .object(let state as ModelState)? = loom.session["L2"] else { return XCTFail() }
        var tensors = Dictionary(state.model.weightTensors, uniquingKeysWith: { a, _ in a })
        tensors["lista1.dictionary"] = Tensor(shape: [720], storage: [Float](repeating: 1, count: 720))
        let bad = NSTemporaryDirectory() + "loom-lista-bad-\(getpid()).safetensors"
        defer { try? FileManager.default.removeItem(atPath: bad) }
        let definition = "model L {\n  input 6x6x1\n  lista 3 from D alpha 0.05 as lista1\n}"
        try Data(SafeTensors.encode(tensors.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
                                    metadata: [("loom.format", "loom-model-1"), ("loom.definition", definition)]))
            .write(to: URL(fileURLWithPath: bad))
        XCTAssertTrue(error("load L4 \"\(bad)\"")?.value.contains("lista1.dictionary is 720, not atoms × values") ?? false,
                      "\(String(describing: error("load L4 \"\(bad)\"")))")
    }
}
