import Jupyter
import XCTest

final class SignerTests: XCTestCase {
    /// RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
    func testMatchesTheRFC4231Vector() {
        let signer = Signer(key: "Jefe")
        let digest = signer.signature([Array("what do ya want ".utf8), Array("for nothing?".utf8)])
        XCTAssertEqual(String(decoding: digest, as: UTF8.self),
                       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    func testVerifiesItsOwnSignatureAndRejectsOthers() {
        let signer = Signer(key: "secret")
        let parts = [Array("{}".utf8), Array("{}".utf8), Array("{}".utf8), Array("{\"code\":\"1\"}".utf8)]
        let good = signer.signature(parts)
        XCTAssertTrue(signer.verify(good, parts: parts))
        var flipped = good
        flipped[0] = flipped[0] == UInt8(ascii: "a") ? UInt8(ascii: "b") : UInt8(ascii: "a")
        XCTAssertFalse(signer.verify(flipped, parts: parts))
        XCTAssertFalse(signer.verify([], parts: parts))
        XCTAssertFalse(signer.verify(good + [0x30], parts: parts))
        XCTAssertFalse(Signer(key: "other").verify(good, parts: parts))
    }

    func testEmptyKeyMeansUnsigned() {
        let signer = Signer(key: "")
        XCTAssertFalse(signer.isSigning)
        XCTAssertEqual(signer.signature([[1, 2, 3]]), [])
        XCTAssertTrue(signer.verify(Array("anything".utf8), parts: [[1]]))
    }
}

final class WireMessageTests: XCTestCase {
    func frames(_ parts: [String]) -> [[UInt8]] { parts.map { Array($0.utf8) } }

    func testSplitsIdentitiesFromTheSignedFrames() throws {
        let wire = try WireMessage(frames: frames(["id1", "id2", "<IDS|MSG>", "sig", "h", "p", "m", "c", "buf"]))
        XCTAssertEqual(wire.identities, frames(["id1", "id2"]))
        XCTAssertEqual(wire.signature, Array("sig".utf8))
        XCTAssertEqual(wire.signedParts, frames(["h", "p", "m", "c"]))
        XCTAssertEqual(wire.buffers, frames(["buf"]))
        XCTAssertEqual(wire.frames, frames(["id1", "id2", "<IDS|MSG>", "sig", "h", "p", "m", "c", "buf"]))
    }

    func testRejectsFramesWithoutDelimiterOrTooFew() {
        XCTAssertThrowsError(try WireMessage(frames: frames(["a", "b"]))) { XCTAssertEqual($0 as? WireError, .missingDelimiter) }
        XCTAssertThrowsError(try WireMessage(frames: frames(["<IDS|MSG>", "s", "h", "p", "m"]))) {
            XCTAssertEqual($0 as? WireError, .missingFrames(4))
        }
        let many = Array(repeating: [UInt8(1)], count: 100) + frames(["<IDS|MSG>", "s", "h", "p", "m", "c"])
        XCTAssertThrowsError(try WireMessage(frames: many))
    }

    func testMessageNeedsObjectFramesAndAType() throws {
        func message(_ header: String, content: String = "{}") throws -> Message {
            try Message(wire: WireMessage(header: Array(header.utf8), parentHeader: Array("{}".utf8),
                                          metadata: Array("{}".utf8), content: Array(content.utf8)))
        }
        XCTAssertEqual(try message(#"{"msg_id":"1","msg_type":"kernel_info_request"}"#).type, "kernel_info_request")
        XCTAssertThrowsError(try message(#"{"msg_id":"1"}"#)) { XCTAssertEqual($0 as? WireError, .missingField("msg_type")) }
        XCTAssertThrowsError(try message("[]")) { XCTAssertEqual($0 as? WireError, .notAnObject(frame: "header")) }
        XCTAssertThrowsError(try message(#"{"msg_id":"1","msg_type":"x"}"#, content: "{"))
    }

    func testTheRawHeaderIsEchoedAsParentByteForByte() throws {
        let header = Array(#"{ "msg_type" : "kernel_info_request", "msg_id":"abc", "extra": 1.50 }"#.utf8)
        let request = try Message(wire: WireMessage(header: header, parentHeader: [0x7B, 0x7D], metadata: [0x7B, 0x7D],
                                                    content: [0x7B, 0x7D]))
        let reply = MessageBuilder(session: "s").reply(to: request, type: "kernel_info_reply", content: [:])
        XCTAssertEqual(reply.wire(signedBy: Signer(key: "k")).parentHeader, header)
    }
}

final class IdentifierTests: XCTestCase {
    func testIdsAreLowerCaseVersion4UUIDsAndUnique() {
        var seen = Set<String>()
        for _ in 0..<1000 {
            let id = Identifiers.uuid()
            let parts = id.split(separator: "-").map(\.count)
            XCTAssertEqual(parts, [8, 4, 4, 4, 12])
            XCTAssertEqual(id, id.lowercased())
            XCTAssertEqual(Array(id)[14], "4")
            XCTAssertTrue("89ab".contains(Array(id)[19]))
            seen.insert(id)
        }
        XCTAssertEqual(seen.count, 1000)
    }

    func testDatesAreUTCWithMicroseconds() {
        let date = Array(Identifiers.now())
        XCTAssertEqual(date.count, 27)
        XCTAssertEqual(date[10], "T")
        XCTAssertEqual(date[19], ".")
        XCTAssertEqual(date.last, "Z")
    }
}
