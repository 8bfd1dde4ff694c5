import Foundation
import LoomLang
import XCTest

/// `data d = npz PATH [samples KEY] [labels KEY] [targets KEY]` on the
/// archives `Tests/LoomEngineTests/Fixtures/make_archives.py` wrote.
final class ArchiveStatementTests: LoomTestCase {
    let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("LoomEngineTests/Fixtures").path

    func testKerasArraysDefineTrainAndTest() {
        guard case .ok = run("data m = npz \"\(fixtures)/keras.npz\"") else { return XCTFail("\(texts())") }
        XCTAssertTrue(texts().contains { $0.contains("m.train │      12 │ 4 4 4 0") }, "\(texts())")
        XCTAssertEqual(value("m.train"), "m.train: data, 12 samples of 4x4x1, 4 classes")
        XCTAssertEqual(value("m.test"), "m.test: data, 6 samples of 4x4x1, 4 classes")
        XCTAssertEqual(error("m")?.name, "NameError")
        let model = "model c {\n  input 4x4x1\n  conv2d 2 3x3 relu\n  flatten\n  dense 4 softmax\n}\n"
        guard case .ok = run(model + "train c on m.train epochs 1 batch 4\nevaluate c on m.test") else {
            return XCTFail("\(texts())")
        }
    }

    func testKeysPickTheArrays() {
        let path = "\(fixtures)/arrays.npz"
        guard case .ok = run("data a = npz \"\(path)\" samples \"x\" labels \"y\"\ndata b = npz \"\(path)\" samples \"x\" targets \"t\"") else {
            return XCTFail("\(texts())")
        }
        XCTAssertEqual(value("a"), "a: data, 5 samples of 3, 3 classes")
        XCTAssertEqual(value("b"), "b: data, 5 samples of 3, targets of 2")
        guard case .ok = run("data z = npz \"\(fixtures)/zip64.npz\"") else { return XCTFail("\(texts())") }
        XCTAssertEqual(value("z"), "z: data, 2 samples of 2, no targets")
    }

    func testErrorsNameTheFileAndWhatToPick() {
        let path = "\(fixtures)/arrays.npz"
        XCTAssertEqual(error("data a = npz \"\(path)\"")?.value,
                       "\(path) holds 3 arrays (`x`, `y`, `t`): pick them with `samples KEY` and `labels KEY` or `targets KEY`")
        XCTAssertEqual(error("data a = npz \"\(path)\" samples \"x\" labels \"w\"")?.value,
                       "\(path) holds no array `w` for the labels; it holds `x`, `y`, `t`")
        XCTAssertEqual(error("data a = npz \"\(path)\" samples \"x\" labels \"y\" targets \"t\"")?.value,
                       "give `labels` (classes) or `targets` (values), not both")
        XCTAssertEqual(error("data a = npz \"\(fixtures)/names-gnu.tar.gz\"")?.value,
                       "\(fixtures)/names-gnu.tar.gz is not an .npz archive (a zip file)")
        XCTAssertNil(value("a"))
    }

    func testTruncatedArchiveIsRefusedByName() throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: "\(fixtures)/keras.npz"))
        let path = NSTemporaryDirectory() + "loom-\(getpid())-cut.npz"
        defer { unlink(path) }
        try bytes.prefix(bytes.count - 40).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(error("data m = npz \"\(path)\"")?.value,
                       "\(path) is not a zip archive (no end of central directory record; truncated file?)")
    }

    func testMemoryIsCheckedBeforeDecompressing() throws {
        // The first entry claims 10,000,000 bytes: more than 16 MiB once read as floats.
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(fixtures)/keras.npz")))
        let end = bytes.count - 22
        let directory = (0..<4).reduce(0) { $0 | Int(bytes[end + 16 + $1]) << (8 * $1) }
        bytes.replaceSubrange((directory + 24)..<(directory + 28), with: [0x80, 0x96, 0x98, 0x00])
        let path = NSTemporaryDirectory() + "loom-\(getpid())-big.npz"
        defer { unlink(path) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        run("set memory 16")
        let refusal = error("data m = npz \"\(path)\"")?.value ?? ""
        XCTAssertTrue(refusal.hasPrefix("\(path) would need ") && refusal.contains("`set memory`"), refusal)
    }
}
