import Foundation
import LoomCore
import LoomLang
import XCTest

/// Session objects through their protocol: a bare name and `show NAME`,
/// completion by the kind a parameter declares, and `save` of every kind
/// that is saved. (A kind that forgets one of the protocol's requirements
/// does not compile: they have no defaults.)
final class SessionObjectTests: LoomTestCase {
    /// One object of each kind: a data set, a model, a dictionary, codes, a
    /// results table, a kept result; and a plain value.
    let objects = """
        seed 5
        data digits = glyphs n 40 size 8
        data pix = patches n 200 size 8
        model m {
          input 8x8x1
          flatten
          dense 10 softmax
        }
        dictionary D = learn pix atoms 12 sparsity 2 iterations 2
        codes C = encode pix with D omp sparsity 2
        record runs k=1 acc=0.5
        record runs k=2 acc=0.75
        r = evaluate m on digits
        rate = 3
        """

    /// Everything a cell showed: its displays, then its result.
    func shown(_ code: String) -> [MimeBundle] {
        out.displays = []
        guard case .ok(let result) = run(code) else { XCTFail("\(code): \(error(code)?.value ?? "")"); return [] }
        return out.displays + (result.map { [$0] } ?? [])
    }

    func testShowNameShowsWhatTheBareNameShowsForEveryKind() {
        run(objects)
        let starts = ["digits": "digits: data, 40 samples of 8x8x1", "m": "m: model, 2 layers, 650 parameters",
                      "D": "D: dictionary, 12 atoms of 8x8x1", "C": "C: codes, 200 codes of pix over D",
                      "runs": "runs: 2 row(s)", "r": "", "rate": "3", "m.params": "650"]
        for (name, start) in starts {
            let bare = shown(name), show = shown("show \(name)")
            XCTAssertFalse(bare.isEmpty, name)
            XCTAssertEqual(show, bare, "`show \(name)` differs from `\(name)`")
            XCTAssertTrue(bare.first?.plainText?.hasPrefix(start) ?? false, "\(name): \(bare.first?.plainText ?? "")")
        }
        // A kept result shows its tables and figures again, the same bundles it showed when made.
        let made = shown("r = evaluate m on digits")
        XCTAssertGreaterThan(made.count, 1)
        XCTAssertEqual(shown("show r"), made)
    }

    /// A name that is also a `show` form's word is reached by naming the parameter.
    func testANameThatIsAFormWordIsShownByNamingIt() {
        run("record filters k=1\nname = 7")
        let table = shown("filters")
        XCTAssertEqual(table.first?.plainText?.hasPrefix("filters: 1 row(s)"), true)
        XCTAssertEqual(shown("show name filters"), table)
        XCTAssertEqual(shown("show name"), [MimeBundle(text: "7")], "`name` alone is the name, not the option")
        XCTAssertEqual(shown("show name name"), [MimeBundle(text: "7")])
        let alone = error("show filters")
        XCTAssertEqual(alone?.name, "SyntaxError")
        XCTAssertTrue(alone?.value.contains("`show name filters` shows a name `filters`") ?? false, alone?.value ?? "")
    }

    func testMisspeltFormsAndUnknownNamesSayWhatTheyMayBe() {
        run("model m {\n  input 4\n  dense 2\n}")
        let typo = error("show filtres m.dense1")
        XCTAssertEqual(typo?.name, "SyntaxError")
        XCTAssertEqual(typo?.value, "unknown form `filtres` after `show`; expected one of weights, filters, histogram, "
                       + "sparsity, table, pruning, history, mask, activations, reconstructions, atoms, codes; did you mean `filters`?")
        let unknown = error("show filtres")
        XCTAssertEqual(unknown?.name, "NameError")
        XCTAssertEqual(unknown?.value, "unknown name `filtres`; did you mean `filters`?")
        XCTAssertEqual(error("show nothing")?.value, "unknown name `nothing`")
        XCTAssertEqual(error("show 3")?.name, "SyntaxError")
        XCTAssertEqual(error("r = show m")?.name, "TypeError")
    }

    /// `help show` explains every form of `show`, `show NAME` among them.
    func testHelpShowListsEveryForm() {
        guard case .ok = run("help show") else { return XCTFail() }
        let text = texts().last ?? ""
        for usage in ["show NAME", "show weights M.LAYER", "show codes NAME"] {
            XCTAssertTrue(text.contains(usage), usage)
        }
    }

    /// Names offered where a parameter wants a kind, from its declaration alone.
    func testCompletionOffersTheNamesEachParameterDeclares() {
        run(objects + "\nmodel n {\n  input 8x8x1\n  flatten\n  dense 3\n}")
        func names(_ code: String) -> Set<String> {
            Set(loom.complete(code, cursor: code.count).matches).intersection(loom.session.names)
        }
        XCTAssertEqual(names("train "), ["m", "n"], "a model argument")
        XCTAssertEqual(names("compare m "), ["D", "m", "n"], "models or dictionaries (sparse coders), up to the next option")
        XCTAssertEqual(names("compare m D "), ["D", "m", "n"], "past the positional coder that follows the list")
        // Codes are data sets too (their data's labels beside them).
        XCTAssertEqual(names("train m on "), ["C", "digits", "pix"], "a data set argument")
        XCTAssertEqual(names("train m on digits validate "), ["C", "digits", "pix"])
        // A dictionary, or a model ending in `lista`.
        XCTAssertEqual(names("codes E = encode pix with "), ["D", "m", "n"], "a dictionary argument")
        XCTAssertEqual(names("show atoms "), ["D", "m", "n"], "a dictionary, or a model's dense layer")
        XCTAssertEqual(names("show codes "), ["C"])
        XCTAssertEqual(names("show table "), ["runs"])
        let layers = loom.complete("show weights ", cursor: 13).matches
        XCTAssertTrue(layers.contains("n.dense1") && layers.allSatisfy { $0.hasPrefix("m.") || $0.hasPrefix("n.") },
                      "a layer: the models' layers, \(layers)")
        XCTAssertEqual(names("save "), ["digits", "pix", "m", "D", "C", "runs", "r", "n"], "any object, no plain value")
        XCTAssertEqual(names("delete "), Set(loom.session.names), "any name")
        XCTAssertEqual(names("show name "), Set(loom.session.names))
        let show = Set(loom.complete("show ", cursor: 5).matches)
        XCTAssertTrue(show.isSuperset(of: ["weights", "table", "codes"] + loom.session.names), "\(show)")
        XCTAssertEqual(loom.complete("show ru", cursor: 7).matches, ["runs"])
        XCTAssertEqual(loom.complete("show weights n.", cursor: 15).matches, ["n.dense1", "n.flatten1"])
    }

    /// `save` writes what the object's protocol says, for every kind that is
    /// saved, and `load` reads it back as the same kind.
    func testEverySavedKindRoundTripsThroughTheProtocol() throws {
        run(objects)
        let directory = NSTemporaryDirectory() + "loom-objects-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for name in ["digits", "m", "D", "runs"] {
            guard case .object(let object)? = loom.session[name], let file = object.savedFile(as: name) else {
                return XCTFail("\(name) is not saved")
            }
            let path = "\(directory)/\(name)"
            XCTAssertEqual(shown("save \(name) \"\(path)\"").last?.plainText, "Saved \(file.summary) to \(path)")
            XCTAssertEqual(FileManager.default.contents(atPath: path).map { [UInt8]($0) }, file.bytes, name)
            guard name != "runs" else { continue }
            guard case .ok = run("load \(name) \"\(path)\"") else { return XCTFail("\(error("load \(name) \"\(path)\"")!)") }
            guard case .object(let loaded)? = loom.session[name], loaded !== object else { return XCTFail(name) }
            XCTAssertEqual(loaded.describe, object.describe, name)
            XCTAssertEqual(loaded.savedFile(as: name)?.bytes, file.bytes, "\(name) loaded and saved again is the same file")
        }
        XCTAssertEqual(try String(contentsOfFile: "\(directory)/runs", encoding: .utf8), "k,acc\n1,0.5\n2,0.75\n")
        XCTAssertEqual(shown("save runs \"\(directory)/runs\"").last?.plainText,
                       "Saved runs (2 row(s) of k, acc) as CSV to \(directory)/runs")
        // Codes are saved as a data set of their values (`load` reads them back as one); a results object is not saved.
        guard case .object(let codes)? = loom.session["C"] else { return XCTFail() }
        XCTAssertEqual(codes.savedFile(as: "C")?.summary, "200 codes over D as a data set")
        guard case .object(let results)? = loom.session["r"] else { return XCTFail() }
        XCTAssertNil(results.savedFile(as: "r"))
        XCTAssertEqual(error("save r \"\(directory)/x\"")?.name, "TypeError")
    }
}
