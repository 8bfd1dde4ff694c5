import LoomCore

/// The frames of one Jupyter message as they travel over ZeroMQ:
/// `identities… <IDS|MSG> signature header parent metadata content buffers…`.
public struct WireMessage: Sendable, Equatable {
    public var identities: [[UInt8]]
    public var signature: [UInt8]
    public var header: [UInt8]
    public var parentHeader: [UInt8]
    public var metadata: [UInt8]
    public var content: [UInt8]
    public var buffers: [[UInt8]]

    public static let delimiter = Array("<IDS|MSG>".utf8)
    /// More routing identities than any real client sends.
    static let maxIdentities = 64
    /// The most bytes one received message may hold, over all its frames
    /// (a 16 MiB cell is far past any notebook's). Every kernel socket is
    /// limited to it, so no peer, signed or not, can make one frame larger.
    public static let maximumBytes = 16 << 20
    /// The most frames one received message may have: routing identities,
    /// the delimiter, five frames and buffers. Real clients send a handful
    /// (a comm message one per binary buffer); the bound keeps a peer from
    /// making the kernel hold millions of tiny frames.
    public static let maximumFrames = 1024

    public init(identities: [[UInt8]] = [], signature: [UInt8] = [], header: [UInt8], parentHeader: [UInt8],
                metadata: [UInt8], content: [UInt8], buffers: [[UInt8]] = []) {
        self.identities = identities
        self.signature = signature
        self.header = header
        self.parentHeader = parentHeader
        self.metadata = metadata
        self.content = content
        self.buffers = buffers
    }

    /// The four frames the signature covers.
    public var signedParts: [[UInt8]] { [header, parentHeader, metadata, content] }

    /// Splits received frames; throws when the delimiter or a frame is missing.
    public init(frames: [[UInt8]]) throws(WireError) {
        guard let split = frames.firstIndex(of: WireMessage.delimiter) else { throw .missingDelimiter }
        guard split <= WireMessage.maxIdentities else { throw .tooManyIdentities(split) }
        guard frames.count - split - 1 >= 5 else { throw .missingFrames(frames.count - split - 1) }
        identities = Array(frames[..<split])
        signature = frames[split + 1]
        header = frames[split + 2]
        parentHeader = frames[split + 3]
        metadata = frames[split + 4]
        content = frames[split + 5]
        buffers = Array(frames[(split + 6)...])
    }

    public var frames: [[UInt8]] {
        identities + [WireMessage.delimiter, signature, header, parentHeader, metadata, content] + buffers
    }
}

/// Why received frames are not a message the kernel can act on.
public enum WireError: Error, Equatable, CustomStringConvertible {
    case missingDelimiter
    case tooManyIdentities(Int)
    case missingFrames(Int)
    case badSignature
    case replayedSignature
    case invalidJSON(frame: String, JSONParseError)
    case notAnObject(frame: String)
    case missingField(String)

    public var description: String {
        switch self {
        case .missingDelimiter: return "no <IDS|MSG> delimiter frame"
        case .tooManyIdentities(let n): return "\(n) routing identities (too many)"
        case .missingFrames(let n): return "\(n) frames after the delimiter, 5 needed"
        case .badSignature: return "bad or missing HMAC signature"
        case .replayedSignature: return "signature already seen (replayed message)"
        case .invalidJSON(let frame, let error): return "\(frame) frame: \(error)"
        case .notAnObject(let frame): return "\(frame) frame is not a JSON object"
        case .missingField(let field): return "header has no string '\(field)'"
        }
    }
}
