import LoomCore

/// A verified, parsed request.
public struct Message: Sendable {
    public var identities: [[UInt8]]
    public var header: JSONObject
    /// The header exactly as received, echoed as the parent of every reply.
    public var rawHeader: [UInt8]
    public var metadata: JSONObject
    public var content: JSONObject
    public var buffers: [[UInt8]]

    public var type: String { header["msg_type"]?.stringValue ?? "" }
    public var id: String { header["msg_id"]?.stringValue ?? "" }
    public var session: String { header["session"]?.stringValue ?? "" }

    public init(identities: [[UInt8]] = [], header: JSONObject, metadata: JSONObject = [:],
                content: JSONObject, buffers: [[UInt8]] = []) {
        self.identities = identities
        self.header = header
        self.rawHeader = JSON.object(header).serialized()
        self.metadata = metadata
        self.content = content
        self.buffers = buffers
    }

    /// Parses the frames of `wire`; the signature must have been checked.
    public init(wire: WireMessage) throws(WireError) {
        func object(_ bytes: [UInt8], _ frame: String) throws(WireError) -> JSONObject {
            let value: JSON
            do { value = try JSON.parse(bytes) } catch { throw .invalidJSON(frame: frame, error) }
            guard case .object(let o) = value else { throw .notAnObject(frame: frame) }
            return o
        }
        header = try object(wire.header, "header")
        for field in ["msg_id", "msg_type"] where header[field]?.stringValue == nil {
            throw .missingField(field)
        }
        rawHeader = wire.header
        metadata = try object(wire.metadata, "metadata")
        content = try object(wire.content, "content")
        identities = wire.identities
        buffers = wire.buffers
    }
}

/// A message the kernel sends: a reply, or an iopub broadcast.
public struct OutgoingMessage: Sendable {
    public var identities: [[UInt8]]
    public var header: JSONObject
    public var parentHeader: [UInt8]
    public var metadata: JSONObject
    public var content: JSONObject

    public var type: String { header["msg_type"]?.stringValue ?? "" }

    public init(identities: [[UInt8]], header: JSONObject, parentHeader: [UInt8], metadata: JSONObject, content: JSONObject) {
        self.identities = identities
        self.header = header
        self.parentHeader = parentHeader
        self.metadata = metadata
        self.content = content
    }

    /// Frames ready to send, signed with `signer`.
    public func wire(signedBy signer: Signer) -> WireMessage {
        var wire = WireMessage(
            identities: identities, header: JSON.object(header).serialized(), parentHeader: parentHeader,
            metadata: JSON.object(metadata).serialized(), content: JSON.object(content).serialized())
        wire.signature = signer.signature(wire.signedParts)
        return wire
    }
}

/// Makes headers for everything the kernel sends, so that no reply can
/// forget its parent header or its routing identities.
public struct MessageBuilder: Sendable {
    public let session: String
    public let username: String
    public static let protocolVersion = "5.3"

    public init(session: String = Identifiers.uuid(), username: String = "kernel") {
        self.session = session
        self.username = username
    }

    func header(_ type: String) -> JSONObject {
        [
            "msg_id": .string(Identifiers.uuid()), "session": .string(session),
            "username": .string(username), "date": .string(Identifiers.now()),
            "msg_type": .string(type), "version": .string(MessageBuilder.protocolVersion),
        ]
    }

    /// A reply to `request`, routed back to its sender.
    public func reply(to request: Message, type: String, content: JSONObject, metadata: JSONObject = [:]) -> OutgoingMessage {
        OutgoingMessage(identities: request.identities, header: header(type), parentHeader: request.rawHeader,
                        metadata: metadata, content: content)
    }

    /// A broadcast on iopub, caused by `parent` (nil for none). Its topic is
    /// `kernel.<session>.<type>`, as ipykernel's.
    public func broadcast(_ type: String, content: JSONObject, parent: Message?) -> OutgoingMessage {
        OutgoingMessage(identities: [Array("kernel.\(session).\(type)".utf8)], header: header(type),
                        parentHeader: parent?.rawHeader ?? Array("{}".utf8), metadata: [:], content: content)
    }
}
