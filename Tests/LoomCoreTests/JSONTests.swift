import LoomCore
import XCTest

final class JSONTests: XCTestCase {
    func testParsesEveryKindOfValue() throws {
        let json = try JSON.parse(#"{"a": 1, "b": -2.5e3, "c": true, "d": null, "e": [1, "x"], "f": {}}"#)
        XCTAssertEqual(json["a"], .int(1))
        XCTAssertEqual(json["b"], .double(-2500))
        XCTAssertEqual(json["c"], .bool(true))
        XCTAssertEqual(json["d"], .null)
        XCTAssertEqual(json["e"], .array([.int(1), .string("x")]))
        XCTAssertEqual(json["f"], .object([:]))
    }

    func testIntegersAndBooleansStayDistinct() throws {
        XCTAssertNil(try JSON.parse("1").boolValue)
        XCTAssertNil(try JSON.parse("true").intValue)
        XCTAssertEqual(try JSON.parse("1.0").intValue, 1)
    }

    func testStringEscapesAndSurrogatePairs() throws {
        let json = try JSON.parse(#""a\"b\\c\/d\n\u00e9\ud83d\ude00""#)
        XCTAssertEqual(json.stringValue, "a\"b\\c/d\né😀")
    }

    func testKeysKeepTheirOrderAndSlashesAreNotEscaped() throws {
        let text = #"{"z":1,"a":"x/y","m":[true,false,null]}"#
        XCTAssertEqual(try JSON.parse(text).text, text)
    }

    func testControlCharactersAreEscapedOnOutput() {
        XCTAssertEqual(JSON.string("a\u{01}b\tc").text, #""a\u0001b\tc""#)
    }

    func testPrettyTextSortsKeysLikeNbformat() {
        let json: JSON = ["b": 1, "a": ["x": [1, 2]]]
        XCTAssertEqual(json.prettyText(indent: 1), "{\n \"a\": {\n  \"x\": [\n   1,\n   2\n  ]\n },\n \"b\": 1\n}")
    }

    func testRejectsMalformedText() {
        for bad in ["", "{", "[1,]", "{\"a\" 1}", "01", "1.", "tru", "\"\\x\"", "\"\\ud800\"", "[1] 2", "\"a\nb\"",
                    "{\"a\":}", "-", "1e", "nul"] {
            XCTAssertThrowsError(try JSON.parse(bad), "accepted \(bad.debugDescription)")
        }
    }

    func testRejectsInvalidUTF8() {
        XCTAssertThrowsError(try JSON.parse([0x22, 0xFF, 0xFE, 0x22]))
    }

    func testDeepNestingIsAnErrorNotACrash() {
        let deep = String(repeating: "[", count: 100_000)
        XCTAssertThrowsError(try JSON.parse(deep)) { error in
            XCTAssertTrue("\(error)".contains("nested too deeply"))
        }
    }

    /// As nbformat (Python's json) reads and writes them: integers of any
    /// size exactly, −0.0 with its sign, a number past a double's range as
    /// written, and nesting as deep as Python's recursion limit.
    func testNumbersAJSONFileHoldsAreWrittenBackAsRead() throws {
        for text in ["12345678901234567890123", "18446744073709551615", "-9223372036854775809", "1E400", "-1e999",
                     "-0.0", "9223372036854775807", "0.0"] {
            XCTAssertEqual(try JSON.parse("[\(text)]").text, "[\(text)]")
        }
        XCTAssertEqual(try JSON.parse("18446744073709551615").doubleValue, 18446744073709551615.0)
        XCTAssertNil(try JSON.parse("18446744073709551615").intValue)
        XCTAssertEqual(try JSON.parse("-0.0").doubleValue?.sign, .minus)
        let deep = String(repeating: "[", count: 990) + String(repeating: "]", count: 990)
        XCTAssertEqual(try JSON.parse(deep).text, deep)
    }

    func testDoublesRoundTrip() throws {
        for x in [0.1, 1e-7, 123456.789, -3.0, 1e300] {
            XCTAssertEqual(try JSON.parse(JSON.double(x).text).doubleValue, x)
        }
        XCTAssertEqual(JSON.double(.nan).text, "null")
    }

    func testObjectSetterReplacesInPlaceAndRemoves() {
        var o: JSONObject = ["a": 1, "b": 2]
        o["a"] = 3
        o["c"] = 4
        o["b"] = nil
        XCTAssertEqual(o.keys, ["a", "c"])
        XCTAssertEqual(o["a"], .int(3))
    }
}

final class JSONScaleTests: XCTestCase {
    /// Objects parse in linear time: 160,000 keys (a large safetensors
    /// header) parse, and every key is found, in well under the quadratic
    /// parser's 23 s. (No clock is asserted; the test would time out.)
    func testLargeObjectsKeepOrderAndFindEveryKey() throws {
        let n = 160_000
        let text = "{" + (0..<n).map { "\"k\($0)\":\($0)" }.joined(separator: ",") + "}"
        guard case .object(let object) = try JSON.parse(Array(text.utf8)[...]) else { return XCTFail() }
        XCTAssertEqual(object.count, n)
        XCTAssertEqual(object.keys.prefix(3), ["k0", "k1", "k2"])
        for i in stride(from: 0, to: n, by: 997) { XCTAssertEqual(object["k\(i)"], .int(i)) }
        var edited = object
        edited["k5"] = nil
        XCTAssertNil(edited["k5"])
        XCTAssertEqual(edited["k6"], .int(6))
        XCTAssertEqual(edited.keys[5], "k6")
        edited["k5"] = 55
        XCTAssertEqual(edited.keys.last, "k5")
    }
}
