import Foundation
import LoomLang
import XCTest

final class ReferenceTests: XCTestCase {
    /// docs/language.md must hold the reference generated from the signature
    /// table (run `make docs` after changing a statement).
    func testDocsHoldTheGeneratedReference() throws {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/language.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        XCTAssertTrue(Reference.splice(into: text) == text, "docs/language.md is out of date: run `make docs`")
    }

    func testEveryStatementAndLayerIsInTheReference() {
        let reference = Reference.markdown()
        for keyword in ["train", "show filters", "data NAME = csv", "conv2d", "kwta", "codes NAME = encode", "dictionary", "sleep"] {
            XCTAssertTrue(reference.contains("#### `\(keyword)"), keyword)
        }
    }
}
