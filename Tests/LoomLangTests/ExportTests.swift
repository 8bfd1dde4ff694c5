import Foundation
import LoomCore
import LoomLang
import XCTest

/// `export M "m.onnx"`: every layer family Loom has is written, the file
/// replaces an older one atomically, and other extensions are refused.
final class ExportTests: LoomTestCase {
    private var folder = ""

    override func setUp() {
        super.setUp()
        folder = NSTemporaryDirectory() + "loom-export-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: folder)
        super.tearDown()
    }

    /// Each family's own example, in a model, exports: a layer added to
    /// Loom without an ONNX form fails here, naming it.
    func testEveryLayerFamilysExampleExports() {
        for s in Layers.all where s.keyword != "input" {
            let path = "\(folder)/\(s.keyword).onnx"
            if let e = error(BindingTests.model(of: s) + "\nexport m \"\(path)\"") {
                XCTFail("`\(s.example)`: \(e.name): \(e.value)")
                continue
            }
            XCTAssertGreaterThan((try? Data(contentsOf: URL(fileURLWithPath: path)))?.count ?? 0, 0, s.keyword)
        }
    }

    func testExportSaysWhereAndNotesDenseEquivalents() {
        let path = "\(folder)/m.onnx"
        run("model m {\n  input 4\n  dense 8 relu sparse 50%\n  dense 2\n}")
        XCTAssertEqual(value("export m \"\(path)\""), nil)
        let shown = texts().last ?? ""
        XCTAssertTrue(shown.hasPrefix("Exported m to \(path) (ONNX, opset 17)\nnote: dense1.kernel is pruned: written dense, its 16 zeros included"),
                      shown)
    }

    func testOtherExtensionsAreRefusedAndNothingIsWritten() {
        run("model m {\n  input 4\n  dense 2\n}")
        let e = error("export m \"\(folder)/m.h5\"")
        XCTAssertEqual(e?.name, "ValueError")
        XCTAssertTrue(e?.value.contains("`export` writes ONNX files, named *.onnx, not \(folder)/m.h5") ?? false, e?.value ?? "")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), [])
    }

    func testExportingSomethingThatIsNotAModelIsATypeError() {
        run("data g = glyphs n 10 size 8")
        XCTAssertEqual(error("export g \"\(folder)/g.onnx\"")?.name, "TypeError")
    }
}
