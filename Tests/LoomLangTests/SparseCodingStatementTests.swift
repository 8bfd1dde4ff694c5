import Foundation
import LoomCore
import LoomEngine
import LoomLang
import XCTest

/// Sparse coding through the language: scikit-learn's sparse-coding
/// example, the coders and their errors, reports, dictionaries from files,
/// save and load.
final class SparseCodingStatementTests: LoomTestCase {
    let pix = "seed 3\ndata pix = patches n 600 size 8\n"

    /// The figure after `label` in a line of text.
    func figure(_ label: String, in text: String?) -> Double? {
        guard let line = text?.split(separator: "\n").first(where: { $0.contains(label) }) else { return nil }
        let tail = line[line.range(of: label)!.upperBound...]
        return tail.split(whereSeparator: { " │,:(".contains($0) }).lazy.compactMap { Double($0) }.first
    }

    /// scikit-learn's sparse-coding example, as the reference example writes it.
    func testScikitLearnsSparseCodingExample() {
        let code = """
            data pix = patches n 2000 size 8
            dictionary D = learn pix atoms 100 sparsity 5 method ksvd iterations 10
            codes C = encode pix with D omp sparsity 5
            show atoms D
            show codes C
            """
        guard case .ok(let last) = run(code) else { return XCTFail("\(String(describing: error(code)))") }
        let all = texts() + [last?.plainText ?? ""]
        let learned = all.first { $0.hasPrefix("D: 100 atoms of 8x8x1 learned by ksvd on pix") }
        XCTAssertNotNil(learned, all.joined(separator: "\n"))
        XCTAssertTrue(all.contains { $0.contains("49 image(s) of 8×8") }, "the atom grid")
        let report = all.first { $0.contains("relative error ‖X − CD‖/‖X‖") }
        let error = figure("relative error ‖X − CD‖/‖X‖", in: report)
        XCTAssertNotNil(error)
        XCTAssertLessThan(error ?? 1, 0.15)
        XCTAssertEqual(figure("nonzeros per code, max", in: report), 5)
        XCTAssertTrue(all.contains { $0.contains("relative error against nonzeros per code") })
        XCTAssertTrue(all.contains { $0.contains("atom usage") })
        XCTAssertTrue(all.contains { $0.contains("48×100, nz = 240") }, "the spy plot of 48 codes")
        XCTAssertTrue(all.contains { $0.contains("D's learning: cost by iteration") })
    }

    func testTheThreeCodersAndTheirOptions() {
        run(pix + "dictionary D = learn pix atoms 32 sparsity 3 iterations 3 center")
        let omp = value("codes C = encode pix with D omp error 0.3\nC")
        XCTAssertTrue(omp?.contains("(omp error 0.3)") ?? false, omp ?? "")
        let lasso = value("codes L = encode pix with D lasso alpha 0.05 positive\nL")
        XCTAssertTrue(lasso?.contains("(lasso alpha 0.05 positive)") ?? false, lasso ?? "")
        let threshold = value("codes T = encode pix with D threshold 0.2\nT")
        XCTAssertTrue(threshold?.contains("(threshold 0.2)") ?? false, threshold ?? "")
        // Each coder leaves most of the 32 coefficients zero.
        for name in ["C", "L", "T"] {
            let text = value(name) ?? ""
            let nonzeros = text.components(separatedBy: " nonzeros each").first?.split(separator: " ").last.flatMap { Double($0) }
            XCTAssertLessThan(nonzeros ?? 32, 16, text)
        }
        guard case .ok = run("show codes L sample 2") else { return XCTFail() }
        XCTAssertTrue(texts().contains { $0.contains("rebuilt = ") })
    }

    /// ISTA and FISTA through the language: the objective and iterations in
    /// the summary and in `show codes`, FISTA lower than ISTA at the same
    /// iterations, and their options refused elsewhere.
    func testISTAAndFISTAReportTheirObjective() {
        run(pix + "dictionary D = learn pix atoms 32 sparsity 3 iterations 3")
        guard case .ok = run("codes I = encode pix with D ista alpha 0.05 iterations 20 tolerance 0"),
              let ista = texts().first(where: { $0.hasPrefix("I: ") }) else { return XCTFail(texts().joined(separator: "\n")) }
        XCTAssertTrue(ista.contains("(ista alpha 0.05 iterations 20 tolerance 0)"), ista)
        XCTAssertTrue(ista.contains("after 20 iteration(s)"), ista)
        guard case .ok = run("codes F = encode pix with D fista alpha 0.05 iterations 20 tolerance 0"),
              let fista = texts().first(where: { $0.hasPrefix("F: ") }) else { return XCTFail(texts().joined(separator: "\n")) }
        let (i, f) = (figure("objective", in: ista), figure("objective", in: fista))
        XCTAssertNotNil(i)
        XCTAssertLessThan(f ?? .infinity, i ?? 0, "FISTA's objective at 20 iterations below ISTA's")
        guard case .ok(let last) = run("show codes F") else { return XCTFail() }
        let all = texts() + [last?.plainText ?? ""]
        let report = all.first { $0.contains("objective ½‖X − CD‖² + alpha‖C‖₁") }
        XCTAssertEqual(figure("│ iterations", in: report), 20)
        XCTAssertEqual(figure("objective ½‖X − CD‖² + alpha‖C‖₁", in: report), f)
        XCTAssertTrue(all.contains { $0.contains("objective by iteration (1 to 20)") })
        XCTAssertTrue(error("codes C = encode pix with D fista")?.value.contains("fista needs `alpha A`") ?? false)
        XCTAssertTrue(error("codes C = encode pix with D lasso alpha 0.1 iterations 5")?.value
            .contains("`iterations` goes with ista and fista, not lasso") ?? false)
        XCTAssertTrue(error("codes C = encode pix with D omp sparsity 2 tolerance 0.1")?.value
            .contains("`tolerance` goes with ista and fista, not omp") ?? false)
        XCTAssertTrue(error("codes C = encode pix with D ista alpha 0.1 sparsity 2")?.value.contains("`sparsity` goes with omp") ?? false)
    }

    func testCodingErrorsPointAtTheProblem() {
        run(pix + "data wide = patches n 10 size 6\ndictionary D = learn pix atoms 16 sparsity 2 iterations 1")
        XCTAssertTrue(error("codes C = encode wide with D omp sparsity 2")?.value.contains("the atoms of `D` have 64") ?? false)
        XCTAssertTrue(error("codes C = encode pix with D omp sparsity 17")?.value.contains("more than the dictionary's 16 atoms") ?? false)
        XCTAssertTrue(error("codes C = encode pix with D omp")?.value.contains("needs `sparsity T`") ?? false)
        XCTAssertTrue(error("codes C = encode pix with D omp alpha 0.1")?.value.contains("`alpha` goes with lasso") ?? false)
        XCTAssertTrue(error("codes C = encode pix with D lasso")?.value.contains("lasso needs `alpha A`") ?? false)
        XCTAssertTrue(error("codes C = encode pix with D omp error 2")?.value.contains("relative error") ?? false)
        XCTAssertEqual(error("codes C = encode D with pix omp sparsity 2")?.value, "`pix` is a data set, not a dictionary")
        XCTAssertEqual(error("show atoms pix")?.value, "`pix` is a data set, not a dictionary")
        XCTAssertEqual(error("show codes D")?.value, "`D` is a dictionary, not a set of codes")
        XCTAssertTrue(error("dictionary E = learn pix atoms 8")?.value.contains("needs `sparsity T`") ?? false)
        XCTAssertTrue(error("dictionary E = learn pix atoms 8 alpha 0.1")?.value.contains("`method online`") ?? false)
        XCTAssertTrue(error("dictionary E = learn pix atoms 8 sparsity 9")?.value.contains("more than the 8 atoms") ?? false)
        XCTAssertNil(loom.session["E"], "a refused statement binds nothing")
        let e = error("dictionary E = learn pix atoms 8 sparsity 2 method kvsd")
        XCTAssertEqual(e?.name, "SyntaxError")
        XCTAssertTrue(e?.value.contains("ksvd") ?? false, e?.value ?? "")
    }

    func testEveryMethodLearns() {
        run(pix)
        for (method, coding) in [("ksvd", "sparsity 3"), ("mod", "sparsity 3"), ("online", "sparsity 3"), ("online", "alpha 0.05")] {
            guard case .ok = run("dictionary D = learn pix atoms 24 \(coding) method \(method) iterations 3 batch 100 center") else {
                return XCTFail("\(method) \(coding): \(String(describing: error("")))")
            }
            let line = texts().last { $0.hasPrefix("D: 24 atoms") } ?? ""
            XCTAssertTrue(line.contains("learned by \(method)"), line)
            XCTAssertLessThan(figure("relative error", in: line) ?? 1, 0.6, line)
        }
    }

    /// A dictionary saved as safetensors loads back as the same atoms.
    func testSaveAndLoadADictionary() throws {
        let path = NSTemporaryDirectory() + "loom-dictionary-\(getpid()).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        run(pix + "dictionary D = learn pix atoms 16 sparsity 2 iterations 2 center\nsave D \"\(path)\"\nload E \"\(path)\"")
        guard case .object(let d as SessionDictionary)? = loom.session["D"],
              case .object(let e as SessionDictionary)? = loom.session["E"] else { return XCTFail("\(texts())") }
        XCTAssertEqual(d.dictionary, e.dictionary)
        XCTAssertEqual(e.sampleShape, [8, 8, 1])
        XCTAssertTrue(e.centered)
        XCTAssertEqual(e.costs.count, 2)
        XCTAssertTrue(value("codes C = encode pix with E omp sparsity 2\nC")?.contains("2.0 nonzeros each") ?? false)
    }

    /// Atoms from a CSV (scikit-learn's components_ with a header): normalised
    /// with a note; a zero atom is refused.
    func testADictionaryFromACSVFile() throws {
        let path = NSTemporaryDirectory() + "loom-atoms-\(getpid()).csv"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "a,b,c,d\n2,0,0,0\n0,1,0,0\n0,0,0.6,0.8\n".write(toFile: path, atomically: true, encoding: .utf8)
        guard case .ok = run("dictionary D = csv \"\(path)\" shape 2x2") else { return XCTFail("\(String(describing: error("")))") }
        XCTAssertTrue(out.streams.contains { $0.1.contains("1 of the 3 atoms") && $0.1.contains("scaled") })
        guard case .object(let d as SessionDictionary)? = loom.session["D"] else { return XCTFail() }
        XCTAssertEqual(d.dictionary.atoms, [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0.6, 0.8])
        XCTAssertTrue(error("dictionary E = csv \"\(path)\" shape 3x3")?.value.contains("holds 9 values") ?? false)
        try "1,0\n0,0\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertTrue(error("dictionary E = csv \"\(path)\"")?.value.contains("atom 2 is all zeros") ?? false)
    }

    func testInterruptedLearningKeepsTheLastIteration() {
        run("data pix = patches n 6000 size 8")
        let stopper = Thread { Thread.sleep(forTimeInterval: 0.4); interruptFlag.store(true, ordering: .relaxed) }
        stopper.start()
        let e = error("dictionary D = learn pix atoms 64 sparsity 4 iterations 100000")
        XCTAssertEqual(e?.name, "Interrupted")
        XCTAssertTrue(e?.value.contains("keeps the atoms of the last finished one") ?? false, e?.value ?? "")
        guard case .ok = run("codes C = encode pix with D omp sparsity 4") else { return XCTFail("D unusable after an interrupt") }
    }

    func testPatchesAndListing() {
        XCTAssertEqual(value(pix + "pix"), "pix: data, 600 samples of 8x8x1, no targets")
        run("dictionary D = learn pix atoms 8 sparsity 1 iterations 1\ncodes C = encode pix with D omp sparsity 1")
        guard case .ok(let listing) = run("list") else { return XCTFail() }
        _ = listing
        let table = texts().last ?? ""
        XCTAssertTrue(table.contains("dictionary") && table.contains("codes"), table)
        XCTAssertTrue(error("data p = patches size 1")?.value.contains("between 2 and 64") ?? false)
    }
}
