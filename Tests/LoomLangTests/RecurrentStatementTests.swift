import Foundation
import LoomCore
import LoomLang
import XCTest

/// Recurrent models through the language: the LSTM on sine waves, the adding
/// problem, the sharing summary, saving, interrupting.
final class RecurrentStatementTests: LoomTestCase {
    /// The LSTM on sine waves, as the reference example writes it.
    let lstmOnSineWaves = """
        data waves = sines n 2000 steps 10 classes 10
        split waves train 0.8
        model seq {
          input 10x1
          lstm 50 tanh
          dense 10 softmax
        }
        train seq on waves.train epochs 10 batch 32 optimizer adam
        evaluate seq on waves.test
        """

    func accuracy(_ report: String?) -> Double? {
        report?.split(separator: "\n").first { $0.contains("accuracy") }?.split(separator: " ").compactMap { Double($0.dropLast()) }.last
    }

    func metric(_ name: String, in report: String?) -> Double? {
        report?.split(separator: "\n").first { $0.contains(name) }?.split(separator: " ").compactMap { Double($0) }.last
    }

    func testTheLSTMOnSineWavesReachesNinetyPercent() {
        guard case .ok = run(lstmOnSineWaves) else { return XCTFail("\(error(lstmOnSineWaves)!)") }
        let report = texts().first { $0.hasPrefix("seq on waves.test") }
        XCTAssertGreaterThanOrEqual(accuracy(report) ?? 0, 90, report ?? "")
    }

    func testTheSummaryShowsTheSharingAcrossSteps() {
        run("model seq {\n  input 10x1\n  lstm 50 tanh\n  dense 10 softmax\n}")
        let summary = texts().last ?? ""
        // 4·(50·(1+50) + 50) = 10,400 stored; unrolled over 10 steps, 104,000.
        XCTAssertTrue(summary.contains("10,400") && summary.contains("104,000") && summary.contains("10×"), summary)
        XCTAssertTrue(summary.contains("a recurrent layer unrolled"), summary)
        // Two cells reading both ways are unrolled too.
        run("model both {\n  input 10x1\n  lstm 8 bidirectional\n  dense 10 softmax\n}")
        XCTAssertTrue(texts().last?.contains("a recurrent layer unrolled") ?? false, texts().last ?? "")
    }

    /// Hochreiter and Schmidhuber's adding problem at 50 steps: the LSTM
    /// carries the first marked value across the gap, the simple RNN does not
    /// (always answering the mean scores 1/6 ≈ 0.167).
    func testTheLSTMLearnsTheAddingProblemWhereTheSimpleRNNDoesNot() {
        let code = """
            seed 1
            data add = adding n 4000 steps 50
            split add train 0.8
            model a {
              input 50x2
              lstm 32
              dense 1 linear
            }
            model r {
              input 50x2
              rnn 32
              dense 1 linear
            }
            train a on add.train epochs 20 batch 32 loss mse lr 0.003
            evaluate a on add.test
            train r on add.train epochs 20 batch 32 loss mse lr 0.003
            evaluate r on add.test
            """
        guard case .ok = run(code) else { return XCTFail("\(error(code)!)") }
        let lstm = metric("mean squared error", in: texts().first { $0.hasPrefix("a on add.test") })
        let rnn = metric("mean squared error", in: texts().first { $0.hasPrefix("r on add.test") })
        XCTAssertLessThan(lstm ?? 1, 0.03)
        XCTAssertGreaterThan(rnn ?? 0, 0.1)
    }

    func testNextValueRegressionOnSines() {
        let code = """
            seed 2
            data w = sines n 1000 steps 10 classes 5 target next
            split w train 0.8
            model m {
              input 10x1
              gru 16
              dense 1 linear
            }
            train m on w.train epochs 30 batch 16 loss mse lr 0.003
            evaluate m on w.test
            """
        guard case .ok = run(code) else { return XCTFail("\(error(code)!)") }
        XCTAssertEqual(value("w"), "w: data, 1000 samples of 10x1, targets of 1")
        // The targets' spread: amplitudes in [0.5, 1.5), so always answering 0 scores ~0.54.
        XCTAssertLessThan(metric("mean squared error", in: texts().first { $0.hasPrefix("m on w.test") }) ?? 1, 0.05)
    }

    func testARecurrentModelIsSavedWithKerasNamesAndLoaded() throws {
        let path = "/tmp/loom-\(getpid())-seq.safetensors"
        defer { unlink(path) }
        run("model seq {\n  input 6x2\n  gru 4 sequences\n  lstm 3\n  dense 2 softmax\n}\nsave seq \"\(path)\"")
        let bytes = try XCTUnwrap(FileManager.default.contents(atPath: path))
        let header = String(decoding: bytes.prefix(2000), as: UTF8.self)
        for name in ["gru1.kernel", "gru1.recurrent_kernel", "gru1.bias", "lstm1.recurrent_kernel", "dense1.kernel"] {
            XCTAssertTrue(header.contains("\"\(name)\""), name)
        }
        XCTAssertTrue(header.contains("gru 4 tanh sequences as gru1"), "the definition in the metadata")
        guard case .ok = run("load copy \"\(path)\"") else { return XCTFail("\(error("load copy \"\(path)\"")!)") }
        run("show weights seq.lstm1")
        let original = texts().last
        run("show weights copy.lstm1")
        XCTAssertEqual(texts().last, original)
    }

    func testInterruptingRecurrentTrainingKeepsTheModel() {
        run("data w = sines n 200 steps 20\nmodel seq {\n  input 20x1\n  lstm 16\n  dense 10 softmax\n}")
        let stopper = Thread { Thread.sleep(forTimeInterval: 0.05); interruptFlag.store(true, ordering: .relaxed) }
        stopper.start()
        let e = error("train seq on w epochs 100000 batch 1")
        XCTAssertEqual(e?.name, "Interrupted")
        XCTAssertTrue(e?.value.contains("keeps the weights of its last finished step") ?? false)
        guard case .ok = run("evaluate seq on w") else { return XCTFail("model unusable after an interrupt") }
    }

    func testSequenceShapesThatDoNotFitNameBothShapes() {
        run("data w = sines n 20 steps 12\nmodel seq {\n  input 10x1\n  lstm 4\n  dense 10 softmax\n}")
        XCTAssertEqual(error("train seq on w")?.value, "the data's samples are 12x1 but `seq` takes 10x1")
        XCTAssertEqual(error("model bad {\n  input 28x28x1\n  lstm 4\n}")?.value,
                       "`lstm` does not fit here: lstm needs an input of steps×features, like 10x1, not 28x28x1")
    }
}

extension RecurrentStatementTests {
    /// The real 8×8 digits read row by row, a sequence of 8 steps of 8
    /// pixels: Keras's LSTM(64) reaches 0.91–0.94 in 20 epochs.
    func testAnLSTMReadsTheDigitsRowByRowAsWellAsKeras() {
        let csv = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("notebooks/data/digits.csv").path
        let code = """
            seed 1
            data digits = csv "\(csv)" scale 0.0625 shape 8x8
            split digits train 0.8
            model rows {
              input 8x8
              lstm 64
              dense 10 softmax
            }
            train rows on digits.train epochs 20 batch 32
            evaluate rows on digits.test
            """
        guard case .ok = run(code) else { return XCTFail("\(error(code)!)") }
        XCTAssertEqual(value("digits"), "digits: data, 1797 samples of 8x8, 10 classes")
        XCTAssertGreaterThanOrEqual(accuracy(texts().first { $0.hasPrefix("rows on digits.test") }) ?? 0, 90)
    }
}

extension RecurrentStatementTests {
    func testRecurrentWeightsAndActivationsAreDrawnPerGate() {
        run("seed 1\ndata w = sines n 64 steps 10 classes 4\nmodel seq {\n  input 10x1\n  lstm 6\n  dense 4 softmax\n}")
        let before = out.displays.count
        guard case .ok = run("show weights seq.lstm1") else { return XCTFail() }
        let weights = texts().suffix(out.displays.count - before)
        XCTAssertEqual(weights.map { String($0.prefix(while: { $0 != ":" })) },
                       ["seq.lstm1 input gate", "seq.lstm1 forget gate", "seq.lstm1 cell gate", "seq.lstm1 output gate"]
                        .map { $0.replacingOccurrences(of: "seq.", with: "") })
        XCTAssertTrue(weights.allSatisfy { $0.contains("7×6") }, "1 input row and 6 recurrent rows, 6 units")
        let start = out.displays.count
        guard case .ok = run("show activations seq.lstm1 on w first 2") else { return XCTFail("\(error("show activations seq.lstm1 on w")!)") }
        let shown = texts().suffix(out.displays.count - start)
        XCTAssertEqual(shown.count, 3)
        XCTAssertTrue(shown.first?.contains("lstm1, sample 0: hidden state") ?? false)
        XCTAssertTrue(shown.first?.contains("6×10") ?? false, "units × steps")
        XCTAssertTrue(shown.last?.contains("forget gate") ?? false)
        guard case .ok = run("show activations seq.dense1 on w") else { return XCTFail() }
        XCTAssertTrue(texts().last?.contains("nonzero activations on 64 samples") ?? false)
    }
}
