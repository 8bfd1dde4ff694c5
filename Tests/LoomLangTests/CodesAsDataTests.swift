import Foundation
import LoomCore
import LoomEngine
import LoomLang
import XCTest

/// Codes as features: a set of codes read as a data set (each code a
/// sample, with the label of the sample it codes), trained and measured on,
/// and split into codes.
final class CodesAsDataTests: LoomTestCase {
    let glyphs = "seed 4\ndata d = glyphs n 300 size 8\ndictionary D = learn d atoms 24 sparsity 4 iterations 3\n"
        + "codes C = encode d with D omp sparsity 4\n"

    func codes(_ name: String) throws -> SessionCodes {
        guard case .object(let object)? = loom.session[name], let codes = object as? SessionCodes else {
            throw XCTSkip("`\(name)` holds no codes")
        }
        return codes
    }

    func data(_ name: String) throws -> Dataset {
        guard case .object(let object)? = loom.session[name], let data = object as? SessionDataset else {
            throw XCTSkip("`\(name)` holds no data set")
        }
        return data.data
    }

    func testCodesCarryTheLabelsOfTheirDataInOrder() throws {
        guard case .ok = run(glyphs) else { return XCTFail("\(String(describing: error(glyphs)))") }
        let c = try codes("C"), d = try data("d")
        let view = c.data
        XCTAssertEqual(view.labels, d.labels)
        XCTAssertEqual(view.classes, 10)
        XCTAssertEqual(view.sampleShape, [24])
        XCTAssertEqual(view.inputs.storage, c.codes.values)
    }

    func testSplittingCodesSplitsAsTheirDataWouldWithTheSameRandomState() throws {
        guard case .ok = run(glyphs + "seed 9\nsplit d train 0.7\nseed 9\nsplit C train 0.7") else {
            return XCTFail("\(String(describing: error(glyphs)))")
        }
        let whole = try codes("C")
        for part in ["train", "test"] {
            let c = try codes("C.\(part)"), d = try data("d.\(part)")
            XCTAssertEqual(c.data.labels, d.labels, part)
            // The signals are the data's samples in the same order, and each
            // code is the whole set's code of that sample.
            XCTAssertEqual(c.signals.storage, d.inputs.storage, part)
            let rowOf = Dictionary(uniqueKeysWithValues: (0..<whole.codes.samples).map { i in
                (Array(whole.signals.storage[(i * 64)..<((i + 1) * 64)]), i)
            })
            for i in 0..<c.codes.samples {
                let row = try XCTUnwrap(rowOf[Array(c.signals.storage[(i * 64)..<((i + 1) * 64)])])
                XCTAssertEqual(Array(c.codes.code(i)), Array(whole.codes.code(row)))
            }
        }
        XCTAssertTrue(texts().contains { $0.contains("C.train") && $0.contains("C.test") })
    }

    func testAClassifierTrainedOnCodesLearns() throws {
        let code = glyphs + """
            split C train 0.7
            model m {
              input 24
              dense 10 softmax
            }
            train m on C.train epochs 30 batch 16 lr 0.01 validate C.test
            r = evaluate m on C.test
            """
        guard case .ok = run(code) else { return XCTFail("\(String(describing: error(code)))") }
        let text = value("r.accuracy") ?? ""
        let accuracy = (Double(text.replacingOccurrences(of: "%", with: "")) ?? 0) / 100
        // Ten classes: chance is 0.1.
        XCTAssertGreaterThan(accuracy, 0.5)
    }

    func testCodesOfUnlabelledDataCannotTrainAClassifier() {
        let code = "seed 1\ndata p = patches n 50 size 4\ndictionary D = learn p atoms 8 sparsity 2 iterations 2\n"
            + "codes C = encode p with D omp sparsity 2\nmodel m {\n  input 8\n  dense 2 softmax\n}\ntrain m on C"
        let message = error(code)?.value ?? ""
        XCTAssertFalse(message.contains("not a data set"), message)
        XCTAssertFalse(message.isEmpty)
    }
}
