import LoomLang
import XCTest

/// `evaluate … noise P%` and `compare … noise P%`: the noise test in the language.
final class NoiseStatementTests: LoomTestCase {
    let trained = """
        seed 3
        data g = glyphs n 600 size 10
        split g train 0.8
        model m {
          input 10x10x1
          flatten
          dense 64 relu
          dense 10 softmax
        }
        train m on g.train epochs 8
        """

    func accuracy(_ line: String) -> Double? {
        guard let text = value("r = \(line)\nr.accuracy"), text.hasSuffix("%") else { return nil }
        return Double(text.dropLast())
    }

    func testNoNoiseEqualsAPlainEvaluation() {
        run(trained)
        XCTAssertEqual(value("r = evaluate m on g.test\nr.loss"), value("q = evaluate m on g.test noise 0%\nq.loss"))
        XCTAssertEqual(value("r.accuracy"), value("q.accuracy"))
        XCTAssertEqual(value("q.noise"), "0%", "a noise level written is a noise level shown")
        XCTAssertNotNil(error("r.noise"), "a plain evaluation has no noise field")
        // No noise draws nothing: what follows is as if the line were not there.
        run("seed 8\nevaluate m on g.test noise 0%\na = evaluate m on g.test noise 30%")
        run("seed 8\nb = evaluate m on g.test noise 30%")
        XCTAssertEqual(value("a.loss"), value("b.loss"))
    }

    func testTheSameSeedGivesTheSameNoisyEvaluation() {
        run(trained)
        let loss = { (seed: Int) in self.value("seed \(seed)\nr = evaluate m on g.test noise 40%\nr.loss") }
        let first = loss(21)
        XCTAssertNotNil(first)
        XCTAssertEqual(loss(21), first)
        XCTAssertNotEqual(loss(22), first)
    }

    func testAccuracyFallsAsNoiseRises() {
        run(trained)
        let levels = ["0%", "10%", "30%", "60%", "100%"]
        let accuracies = levels.compactMap { accuracy("evaluate m on g.test noise \($0)") }
        XCTAssertEqual(accuracies.count, levels.count, "\(out.streams)")
        XCTAssertGreaterThan(accuracies[0], 80, "the model learned the glyphs")
        for i in 1..<accuracies.count { XCTAssertLessThan(accuracies[i], accuracies[i - 1], "\(levels) → \(accuracies)") }
        XCTAssertLessThan(accuracies.last ?? 100, 25, "every value random: near chance (10%)")
    }

    func testTheResultAndTheTablesSayTheNoiseLevel() {
        run(trained)
        out.displays = []
        XCTAssertEqual(value("r = evaluate m on g.test noise 25%\nr.noise"), "25%")
        XCTAssertTrue(texts().first?.contains("m on g.test with 25% noise") ?? false, "\(texts())")
        out.displays = []
        guard case .ok = run("c = compare m on g.test noise 25%") else { return XCTFail("\(String(describing: error("")))") }
        XCTAssertTrue(texts().first?.contains("1 models on g.test with 25% noise") ?? false, "\(texts())")
        XCTAssertEqual(value("c.noise"), "25%")
    }

    func testCompareCorruptsAsEvaluateDoes() {
        run(trained)
        let evaluated = value("seed 4\nr = evaluate m on g.test noise 50%\nr.accuracy")
        XCTAssertEqual(value("seed 4\nc = compare m on g.test noise 50%\nc.m_accuracy"), evaluated)
        XCTAssertNotEqual(value("c = compare m on g.test\nc.m_accuracy"), evaluated)
    }

    func testANoiseLevelOutsideZeroToAHundredPercentIsRefused() {
        run(trained)
        XCTAssertEqual(error("evaluate m on g.test noise 150%")?.value, "noise must be between 0% and 100%, not 150%")
        XCTAssertEqual(error("compare m on g.test noise -5%")?.value, "noise must be between 0% and 100%, not -5%")
    }

    func testANoisyEvaluationIsNotThePruningRoundsAccuracy() {
        run(trained + "\nevaluate m on g.test\nprune m 50%\nevaluate m on g.test")
        out.displays = []
        run("show pruning m")
        let before = texts()
        XCTAssertTrue(before.first?.contains("pruning rounds of m") ?? false, "\(before)")
        run("evaluate m on g.test noise 80%")
        out.displays = []
        run("show pruning m")
        XCTAssertEqual(texts(), before)
    }
}
