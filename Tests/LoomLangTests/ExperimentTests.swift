import Foundation
import LoomCore
import LoomEngine
import LoomLang
import XCTest

/// Experiments in the language: results kept as values, facts of models
/// and data sets, and loops.
final class ExperimentTests: LoomTestCase {
    let setup = """
        seed 3
        data g = glyphs n 200 size 10
        split g train 0.8
        model m {
          input 10x10x1
          flatten
          dense 16 relu
          dense 10 softmax
        }
        """

    func testResultsAreKeptAsValues() {
        run(setup)
        XCTAssertEqual(value("h = train m on g.train epochs 2\nh.epochs"), "2")
        XCTAssertNotNil(Double(value("h.loss") ?? ""))
        XCTAssertTrue(value("h.accuracy")?.hasSuffix("%") ?? false)
        guard case .ok = run("r = evaluate m on g.test") else { return XCTFail("\(String(describing: error("")))") }
        let accuracy = value("r.accuracy")
        XCTAssertTrue(accuracy?.hasSuffix("%") ?? false)
        // Usable in arithmetic and as an option.
        let share = Double(value("1 - r.accuracy") ?? "")
        XCTAssertNotNil(share)
        XCTAssertEqual(value("r.samples"), "40")
        let zeros = value("s = show sparsity m on g.test\ns.weights") ?? ""
        XCTAssertLessThan(Double(zeros.dropLast()) ?? 100, 1, "a trained dense model has almost no zero weights")
        XCTAssertNotNil(value("s.activations"))
        // A bare result shows its tables again.
        out.displays = []
        guard case .ok(let shown) = run("r") else { return XCTFail() }
        XCTAssertTrue(texts().first?.contains("m on g.test") ?? false, "\(texts())")
        XCTAssertTrue(shown?.plainText?.contains("confusion matrix") ?? false)
        XCTAssertEqual(error("r.acuracy")?.value, "`r` (a result) has no `acuracy`; it has `loss`, `accuracy`, `samples`; did you mean `accuracy`?")
        XCTAssertEqual(error("x = print 1")?.name, "TypeError")
        XCTAssertTrue(error("x = summary m")?.value.contains("keeps the results of `train`, `evaluate`, `compare`, `show sparsity`") ?? false)
        // `list` displays its table and gives no value; `r` is in it as a result.
        guard case .ok(let listed) = run("list") else { return XCTFail("\(String(describing: error("list")))") }
        XCTAssertNil(listed)
        let row = texts().last?.split(separator: "\n").first { $0.hasPrefix("│ r ") }
        XCTAssertEqual(row?.split(separator: "│").map { $0.trimmingCharacters(in: .whitespaces) }.prefix(2), ["r", "result"],
                       texts().last ?? "")
    }

    func testModelsAndDataSetsExposeFacts() {
        run(setup)
        XCTAssertEqual(value("m.params"), "1786")
        XCTAssertEqual(value("g.samples"), "200")
        XCTAssertEqual(value("g.train.samples"), "160")
        XCTAssertEqual(value("g.classes"), "10")
        XCTAssertEqual(value("m.epochs"), "0")
        run("prune m 50%")
        let nonzero = Double(value("m.nonzero") ?? "") ?? 0
        XCTAssertEqual(nonzero, 893, accuracy: 30)
        XCTAssertTrue(error("m.size")?.value.contains("it has `params`, `nonzero`, `bytes`, `epochs`, `layers`") ?? false)
    }

    func testLoopsRunTheBodyOncePerValue() {
        XCTAssertEqual(value("total = 0\nfor x in 1 2 3 4 {\n  total = total + x\n}\ntotal"), "10")
        XCTAssertEqual(value("x"), "4", "the loop's name keeps the last value")
        // Nested loops, percentages and strings; a bare value in a body is shown.
        out.displays = []
        run("for a in 10% 20% {\n  for b in \"x\" \"y\" {\n    b + a\n  }\n}")
        XCTAssertEqual(texts(), ["x10%", "y10%", "x20%", "y20%"])
        // An error names the iteration, and points at the line in the body.
        let e = error("for d in 1 0 2 {\n  y = 1 / d\n}")
        XCTAssertEqual(e?.value, "division by zero (in the iteration `d = 0`)")
        XCTAssertEqual(e?.traceback[1], "  --> line 2, column 7")
        XCTAssertEqual(value("y"), "1", "iterations before the error kept their work")
        // Values are checked before the first iteration runs.
        XCTAssertEqual(error("n = 0\nfor v in 1 nope {\n  n = n + 1\n}")?.name, "NameError")
        XCTAssertEqual(value("n"), "0")
    }

    /// A list value (`[5%, 10%]`) holds a sweep's values: a parameters cell can set it.
    func testLoopsOverLists() {
        XCTAssertEqual(value("ks = [5%, 10%, 2 * 3]\nks"), "[5%, 10%, 6]")
        out.displays = []
        run("for k in ks [1, 2] 7 {\n  k\n}")
        XCTAssertEqual(texts(), ["5%", "10%", "6", "1", "2", "7"])
        XCTAssertEqual(error("x = ks + 1")?.value, "cannot apply `+` to a list and a number")
        XCTAssertEqual(error("y = [1, 2")?.name, "SyntaxError")
        XCTAssertTrue(error("data g = glyphs n [1, 2]")?.value.contains("whole number") ?? false)
    }

    func testLoopSyntaxErrors() {
        XCTAssertEqual(error("for k in {\n}")?.value, "`for k in` needs values before `{`")
        XCTAssertEqual(error("for k 1 2 {\n}")?.value, "expected `in` after `for k`, found a number")
        XCTAssertTrue(error("for k in 1 2 {\n  print k")?.value.contains("not closed") ?? false)
        XCTAssertTrue(error("for train in 1 {\n}")?.value.contains("statement word") ?? false)
        let deep = String(repeating: "for i in 1 {\n", count: 300) + String(repeating: "}\n", count: 300)
        XCTAssertTrue(error(deep)?.value.contains("nested too deeply") ?? false)
        XCTAssertEqual(loom.isComplete("for k in 1 2 {\n  print k"), .incomplete(indent: "  "))
    }

    /// A sweep in a loop gives what separate runs with the same seeds give.
    func testASweepEqualsSeparateRuns() {
        let body = { (k: String) in """
            seed 5
            model w {
              input 10x10x1
              flatten
              dense 32 relu
              kwta \(k)
              dense 10 softmax
            }
            train w on g.train epochs 2
            r = evaluate w on g.test
            """ }
        run(setup)
        let separate = ["10%", "40%"].map { k -> String in
            run(body(k))
            return value("r.loss") ?? ""
        }
        var swept: [String] = []
        run("losses = \"\"\nfor k in 10% 40% {\n" + body("k") + "\n  losses = losses + r.loss + \" \"\n}")
        swept = (value("losses") ?? "").split(separator: " ").map(String.init)
        XCTAssertEqual(swept, separate)
    }

    /// A loop over model names trains each model itself, not a copy.
    func testALoopOverModelsUsesTheModels() {
        run(setup + "\nmodel n {\n  input 10x10x1\n  flatten\n  dense 10 softmax\n}")
        run("for net in m n {\n  train net on g.train epochs 1\n}")
        XCTAssertEqual(value("m.epochs"), "1")
        XCTAssertEqual(value("n.epochs"), "1")
    }

    func testAnInterruptStopsTheLoopBetweenIterations() {
        let stopper = Thread { Thread.sleep(forTimeInterval: 0.2); interruptFlag.store(true, ordering: .relaxed) }
        stopper.start()
        let e = error("count = 0\nfor i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 {\n  sleep 0.05\n  count = count + 1\n}")
        XCTAssertEqual(e?.name, "Interrupted")
        XCTAssertLessThan(Double(value("count") ?? "") ?? 20, 20)
    }
}

/// Results tables (`record`, `show table`, CSV) and `time`.
final class RecordTests: LoomTestCase {
    func testRecordBuildsATableRowByRow() throws {
        run("for k in 1 2 3 {\n  record runs k=k square=k*k name=\"k\" + k\n}\nrecord runs k=4 extra=10%")
        guard case .object(let table as SessionTable)? = loom.session["runs"] else { return XCTFail("no table") }
        XCTAssertEqual(table.columns, ["k", "square", "name", "extra"])
        XCTAssertEqual(table.rows.count, 4)
        XCTAssertNil(table.rows[0][3], "a column added later is empty in earlier rows")
        XCTAssertEqual(value("runs.rows"), "4")
        let shown = value("runs") ?? ""
        XCTAssertTrue(shown.contains("runs: 4 row(s)") && shown.contains("10%"), shown)
        let path = NSTemporaryDirectory() + "loom-runs-\(getpid()).csv"
        defer { try? FileManager.default.removeItem(atPath: path) }
        run("save runs \"\(path)\"")
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8),
                       "k,square,name,extra\n1,1,k1,\n2,4,k2,\n3,9,k3,\n4,,,0.1\n")
        // A plot of one column against another, a line per value of a third.
        guard case .ok = run("show table runs x k y square") else { return XCTFail() }
        XCTAssertTrue(texts().last?.contains("square against k") ?? false)
        let notNumbers = error("show table runs x k y name")
        XCTAssertTrue(notNumbers?.value.contains("not a number") ?? false, "\(String(describing: notNumbers))")
        XCTAssertEqual(error("show table runs x kk y square")?.value, "`runs` has no column `kk`; its columns: k, square, name, extra; did you mean `k`?")
        XCTAssertEqual(error("record runs a=1 a=2")?.value, "column `a` is given twice")
        XCTAssertTrue(error("record runs 5")?.value.contains("COLUMN=VALUE") ?? false)
        run("x = 3")
        XCTAssertEqual(error("record x a=1")?.value, "`x` is a number, not a results table")
    }

    func testQuietDropsDisplaysButNotPrintsOrErrors() {
        run("data g = glyphs n 40 size 8\nmodel m {\n  input 8x8x1\n  flatten\n  dense 10 softmax\n}")
        out.displays = []
        guard case .ok = run("quiet {\n  r = evaluate m on g\n  print \"loss\" r.loss\n  summary m\n}") else { return XCTFail() }
        XCTAssertEqual(out.displays.count, 0)
        XCTAssertTrue(out.stdout.hasPrefix("loss "))
        XCTAssertEqual(error("quiet {\n  evaluate nothing on g\n}")?.name, "NameError")
        run("summary m")
        XCTAssertEqual(out.displays.count, 1, "displays show again after the block")
        XCTAssertEqual(error("quiet 1")?.name, "SyntaxError")
    }

    /// The new forms complete, inspect and explain themselves from the one table.
    func testNewFormsCompleteAndHaveHelp() {
        for (prefix, word) in [("compar", "compare"), ("compac", "compact"), ("reco", "record"), ("quie", "quiet"), ("tim", "time")] {
            XCTAssertEqual(loom.complete(prefix, cursor: prefix.count).matches, [word])
            XCTAssertNotNil(loom.inspect(word, cursor: word.count, detailLevel: 0), word)
            guard case .ok = run("help \(word)") else { return XCTFail(word) }
        }
        XCTAssertTrue(loom.complete("show tab", cursor: 8).matches.contains("table"))
        XCTAssertTrue(loom.complete("train m on d pati", cursor: 17).matches.contains("patience"))
        XCTAssertTrue(loom.complete("model b = copy a fre", cursor: 20).matches.contains("fresh"))
    }

    func testTimeReportsTheWallClock() {
        run("time sleep 0.05")
        XCTAssertTrue(out.stdout.hasPrefix("time: "), out.stdout)
        let ms = Double(out.stdout.dropFirst(6).split(separator: " ").first ?? "") ?? 0
        XCTAssertGreaterThanOrEqual(ms, 50)
        out.streams = []
        XCTAssertEqual(value("time {\n  a = 2\n  b = a * 3\n}\nb"), "6")
        XCTAssertTrue(out.stdout.hasPrefix("time: "))
        // A failing statement is timed too, and its error still points at it.
        out.streams = []
        XCTAssertEqual(error("time y = 1 / 0")?.value, "division by zero")
        XCTAssertTrue(out.stdout.hasPrefix("time: "))
        XCTAssertEqual(error("time")?.name, "SyntaxError")
    }
}

/// Copies, early stopping, checkpoints and schedules.
final class TrainingControlTests: LoomTestCase {
    let noisy = """
        seed 3
        data g = glyphs n 120 size 10 noise 0.5
        split g train 0.5
        model m {
          input 10x10x1
          flatten
          dense 128 relu
          dense 10 softmax
        }
        """

    func weights(_ name: String) -> [[Float]] {
        guard case .object(let state as ModelState)? = loom.session[name] else { return [] }
        return state.model.parameters.map(\.value.storage)
    }

    func masks(_ name: String) -> [[Float]?] {
        guard case .object(let state as ModelState)? = loom.session[name] else { return [] }
        return state.model.parameters.map(\.mask)
    }

    /// Training stops once the validation loss has not improved for
    /// `patience` epochs, ends with the best epoch's weights, and the
    /// checkpoint holds exactly that model.
    func testEarlyStoppingRestoresTheBestEpochAndTheCheckpointHoldsIt() {
        let path = NSTemporaryDirectory() + "loom-checkpoint-\(getpid()).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        run(noisy)
        guard case .ok = run("h = train m on g.train epochs 60 validate g.test patience 2 restore checkpoint \"\(path)\" lr 0.01")
        else { return XCTFail("\(String(describing: error("")))") }
        let epochs = Int(value("h.epochs") ?? "") ?? 0, best = Int(value("h.best_epoch") ?? "") ?? 0
        XCTAssertLessThan(epochs, 60, "stopped early")
        XCTAssertEqual(epochs, best + 2, "two epochs without improvement")
        let notes = texts().first { $0.contains("stopped early") } ?? ""
        XCTAssertTrue(notes.contains("best epoch: \(best)") && notes.contains("the weights are those of epoch \(best)"), notes)
        run("load k \"\(path)\"")
        XCTAssertEqual(weights("k"), weights("m"), "the checkpoint is the restored best epoch, bit for bit")
        XCTAssertEqual(value("k.epochs"), String(best))
        // The restored weights give the best validation loss seen.
        XCTAssertEqual(value("r = evaluate m on g.test\nr.loss"), value("q = evaluate k on g.test\nq.loss"))
    }

    func testSchedulesSetTheRateEpochByEpoch() {
        XCTAssertEqual((1...5).map { LearningRateSchedule.step(every: 2, factor: 0.5).factor(epoch: $0, of: 5) }, [1, 1, 0.5, 0.5, 0.25])
        XCTAssertEqual((1...3).map { LearningRateSchedule.warmup(epochs: 2).factor(epoch: $0, of: 3) }, [0.5, 1, 1])
        let cosine = (1...4).map { LearningRateSchedule.cosine.factor(epoch: $0, of: 4) }
        XCTAssertEqual(cosine[0], 1)
        XCTAssertEqual(cosine[2], 0.5, accuracy: 1e-12)
        run(noisy)
        guard case .ok = run("train m on g.train epochs 4 lr 0.1 optimizer sgd schedule step 2 0.5") else { return XCTFail() }
        let table = texts().first { $0.contains("│ lr") || $0.contains(" lr ") } ?? ""
        XCTAssertTrue(table.contains("0.05") && table.contains("0.1"), table)
        XCTAssertTrue(error("train m on g.train schedule linear")?.value.contains("expected a schedule") ?? false)
        XCTAssertTrue(error("train m on g.train schedule step 2")?.value.contains("step EVERY FACTOR") ?? false)
        XCTAssertTrue(error("train m on g.train schedule step 1.5 0.5")?.value.contains("whole number") ?? false)
    }

    func testTrainingControlErrors() {
        run(noisy + "\ndata w = sines n 20 steps 4 target next")
        run("model r {\n  input 4x1\n  flatten\n  dense 1 linear\n}")
        XCTAssertTrue(error("train r on w monitor accuracy loss mse")?.value.contains("needs class labels") ?? false)
        let e = error("train m on g.train checkpoint \"/nonexistent-folder/x.safetensors\"")
        XCTAssertEqual(e?.name, "IOError")
        XCTAssertTrue(e?.value.contains("checkpoint") ?? false)
    }

    /// A copy is deep: training it leaves the original bit for bit as it
    /// was; `fresh` draws new weights under the same masks; a plain copy
    /// draws nothing from the seed.
    func testCopiesAreDeep() {
        run(noisy + "\ntrain m on g.train epochs 1\nprune m 50%")
        let before = weights("m")
        run("model c = copy m")
        XCTAssertEqual(weights("c"), before)
        XCTAssertEqual(masks("c"), masks("m"))
        XCTAssertEqual(value("c.epochs"), "1")
        run("train c on g.train epochs 2")
        XCTAssertEqual(weights("m"), before, "training the copy left the original alone")
        XCTAssertNotEqual(weights("c"), before)
        run("model f = copy m fresh")
        XCTAssertEqual(masks("f"), masks("m"))
        XCTAssertNotEqual(weights("f"), before)
        for (w, mask) in zip(weights("f"), masks("f")) {
            guard let mask else { continue }
            XCTAssertTrue(zip(w, mask).allSatisfy { $1 != 0 || $0 == 0 }, "masked weights of a fresh copy are zero")
        }
        // The seed: a model defined after a plain copy is the one defined without it.
        let fresh = LoomInterpreter(), plain = LoomInterpreter()
        let define = "model z {\n  input 4\n  dense 3\n}"
        _ = fresh.execute("seed 9\nmodel a {\n  input 4\n  dense 3\n}\n" + define, output: CapturedOutput())
        _ = plain.execute("seed 9\nmodel a {\n  input 4\n  dense 3\n}\nmodel b = copy a\n" + define, output: CapturedOutput())
        guard case .object(let x as ModelState)? = fresh.session["z"], case .object(let y as ModelState)? = plain.session["z"] else {
            return XCTFail()
        }
        XCTAssertEqual(x.model.parameters.map(\.value), y.model.parameters.map(\.value))
        XCTAssertTrue(error("model q = copy nothing")?.name == "NameError")
    }
}

final class CompareTests: LoomTestCase {
    func testCompareSetsModelsSideBySide() {
        run("""
            seed 7
            data d = glyphs n 200 size 12
            split d train 0.8
            model conv {
              input 12x12x1
              conv2d 8 3x3 relu
              maxpool 2
              flatten
              dense 10 softmax
            }
            model flat {
              input 12x12x1
              flatten
              dense 10 softmax
            }
            train conv on d.train epochs 1
            """)
        guard case .ok = run("c = compare conv flat on d.test") else { return XCTFail("\(String(describing: error("")))") }
        let table = texts().first { $0.contains("2 models on d.test") } ?? ""
        let row = { (name: String) in table.split(separator: "\n").first { $0.hasPrefix("│ \(name) ") }.map(String.init) ?? "" }
        XCTAssertTrue(row("stored").contains("2,090") && row("stored").contains("1,450"), table)
        XCTAssertTrue(row("sharing").contains("4.79×"), "a convolution shares its weights across positions: \(table)")
        XCTAssertTrue(row("train/epoch").contains("—"), "flat was never trained")
        XCTAssertTrue(texts().last?.contains("accuracy, %") ?? false)
        XCTAssertTrue(value("c.conv_accuracy")?.hasSuffix("%") ?? false)
        XCTAssertEqual(error("compare conv on")?.name, "SyntaxError")
        XCTAssertTrue(error("compare conv d on d.test")?.value.contains("not a model") ?? false)
        run("model other {\n  input 4\n  dense 10 softmax\n}")
        XCTAssertTrue(error("compare conv other on d.test")?.value.contains("takes 4") ?? false)
    }
}

/// Class names from a CSV's word labels, through reports and save/load.
final class ClassNameTests: LoomTestCase {
    func testWordLabelsNameTheClassesInReports() throws {
        let csv = NSTemporaryDirectory() + "loom-iris-\(getpid()).csv", saved = csv + ".safetensors"
        defer { try? FileManager.default.removeItem(atPath: csv); try? FileManager.default.removeItem(atPath: saved) }
        try "a,b,species\n5.1,1.4,setosa\n7.0,4.7,versicolor\n6.3,6.0,virginica\n4.9,1.5,setosa\n"
            .write(toFile: csv, atomically: true, encoding: .utf8)
        XCTAssertTrue(value("data d = csv \"\(csv)\"\nd")?.contains("3 classes") ?? false)
        XCTAssertTrue(texts().last?.contains("(setosa, versicolor, virginica)") ?? false, "\(texts())")
        run("model m {\n  input 2\n  dense 3 softmax\n}\nevaluate m on d\npredict m on d")
        let all = texts().joined(separator: "\n")
        XCTAssertTrue(all.contains("│     setosa │") || all.contains("setosa │"), all)
        XCTAssertTrue(all.contains("versicolor"))
        run("save d \"\(saved)\"\nload e \"\(saved)\"")
        guard case .object(let e as SessionDataset)? = loom.session["e"] else { return XCTFail() }
        XCTAssertEqual(e.data.classNames, ["setosa", "versicolor", "virginica"])
    }
}

/// Completion that knows what an argument wants, and Shift-Tab on option values.
final class CompletionKindTests: LoomTestCase {
    func testCompletionOffersNamesOfTheWantedKind() {
        run("data digits = glyphs n 20 size 8\nmodel m {\n  input 8x8x1\n  flatten\n  dense 10 softmax\n}\nrate = 3")
        let train = loom.complete("train ", cursor: 6).matches
        XCTAssertTrue(train.contains("m") && !train.contains("digits") && !train.contains("rate"), "\(train)")
        let on = loom.complete("evaluate m on ", cursor: 14).matches
        XCTAssertTrue(on.contains("digits") && !on.contains("m"), "\(on)")
        XCTAssertEqual(loom.complete("show weights m.", cursor: 15).matches, ["m.dense1", "m.flatten1"])
        XCTAssertEqual(loom.complete("show weights m.d", cursor: 16).matches, ["m.dense1"])
        XCTAssertEqual(loom.complete("?tra", cursor: 4).matches, ["train"])
        XCTAssertTrue(loom.complete("model q {\n  dense 10 ", cursor: 21).matches.contains("relu"))
        XCTAssertEqual(loom.inspect("m.dense1", cursor: 3, detailLevel: 0)?.plainText, "m.dense1: dense layer, output 10, 650 parameters")
    }

    /// `share` and `tied` offer the layers declared so far in the open model,
    /// as the model will name them; `show atoms` offers dictionaries and models.
    func testCompletionOffersEarlierLayersToShareAndModelsToShowAtomsOf() {
        func matches(_ code: String) -> [String] { loom.complete(code, cursor: code.unicodeScalars.count).matches }
        let block = "model ae {\n  input 4x4x1\n  flatten\n  dense 8 relu as enc\n  dense 8 relu\n  conv2d 2 1x1\n  "
        XCTAssertEqual(matches(block + "dense 16 tied "), ["conv1", "dense2", "enc", "flatten1"])
        XCTAssertEqual(matches(block + "dense 8 relu share e"), ["enc"])
        XCTAssertEqual(matches("model outer {\n  dense 3 as a\n}\nmodel m {\n  dense 3 share "), [])
        run("data digits = glyphs n 20 size 8\nmodel m {\n  input 8x8x1\n  flatten\n  dense 10 softmax\n}\nrate = 3")
        let atoms = matches("show atoms ")
        XCTAssertTrue(atoms.contains("m") && !atoms.contains("digits") && !atoms.contains("rate"), "\(atoms)")
    }

    func testShiftTabExplainsOptionValues() {
        for word in ["relu", "adam", "crossentropy", "same", "ksvd", "omp"] {
            let text = loom.inspect("x \(word)", cursor: 2 + word.count, detailLevel: 0)?.plainText ?? ""
            XCTAssertTrue(text.hasPrefix("\(word): "), "\(word): \(text)")
        }
    }

    /// Every word an option can take has a meaning to show.
    func testEveryChoiceWordIsExplained() {
        for form in Statements.all + Layers.all {
            for p in form.parameters {
                guard case .choice(let words) = p.kind else { continue }
                for word in words {
                    let explained = loom.inspect(word, cursor: word.count, detailLevel: 0) != nil
                    XCTAssertTrue(explained, "`\(word)` (\(form.title) \(p.name)) has no explanation")
                }
            }
        }
    }
}

/// Interrupts outside training: a long evaluation, a cell of many statements.
final class InterruptTests: LoomTestCase {
    func interruptSoon(after seconds: Double) {
        let stopper = Thread { Thread.sleep(forTimeInterval: seconds); interruptFlag.store(true, ordering: .relaxed) }
        stopper.start()
    }

    func testALongEvaluationStops() {
        run("data g = glyphs n 8000 size 28\nmodel m {\n  input 28x28x1\n  flatten\n  dense 2048 relu\n  dense 2048 relu\n  dense 10 softmax\n}")
        interruptSoon(after: 0.05)
        let e = error("evaluate m on g")
        XCTAssertEqual(e?.name, "Interrupted")
        XCTAssertTrue(e?.value.contains("evaluation stopped by the user") ?? false)
        XCTAssertEqual(value("m.params"), "5824522", "the model is still there")
    }

    func testMakingLongSequencesStops() {
        for statement in ["data w = sines n 600000 steps 100", "data a = adding n 300000 steps 100"] {
            interruptSoon(after: 0.05)
            let e = error(statement)
            XCTAssertEqual(e?.name, "Interrupted", statement)
            XCTAssertTrue(e?.value.contains("before the sequences were made") ?? false)
            run("x = 1")  // the next cell starts with the flag cleared
        }
        XCTAssertNil(loom.session["w"])
        XCTAssertNil(loom.session["a"])
    }

    func testACellOfManyStatementsStops() {
        run("n = 0")
        let cell = String(repeating: "n = n + 1\n", count: 300_000)
        interruptSoon(after: 0.05)
        XCTAssertEqual(error(cell)?.name, "Interrupted")
        XCTAssertLessThan(Double(value("n") ?? "") ?? 300_000, 300_000)
    }

    /// An error deep in a huge cell shows its line without splitting the
    /// whole cell into lines (that took 0.5 s for two million lines).
    func testAnErrorInAHugeCellShowsItsLine() {
        let cell = String(repeating: "n = 1\n", count: 1_000_000) + "n = 1 +\n" + String(repeating: "n = 2\n", count: 1_000_000)
        let e = error(cell)
        XCTAssertEqual(e?.traceback[1], "  --> line 1000001, column 8")
        XCTAssertEqual(e?.traceback[3], "1000001 | n = 1 +")
        let short = error("a = 1\nb = (\nc = 2")
        XCTAssertEqual(short?.traceback[3], "2 | b = (")
    }
}
