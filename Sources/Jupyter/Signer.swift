import CSodium

/// HMAC-SHA256 signatures of Jupyter messages (the `hmac-sha256` scheme).
///
/// With an empty key, messages are unsigned: the signature is empty and any
/// signature is accepted, as the messaging spec allows.
public struct Signer: @unchecked Sendable {
    let key: [UInt8]
    /// The HMAC state after the key is absorbed; each signature starts from a
    /// copy, so the key's two hash blocks are not hashed again per message.
    /// Never mutated after init, so sharing it between threads is safe.
    private let keyed: crypto_auth_hmacsha256_state

    public init(key: String) {
        _ = Signer.sodiumReady
        self.key = Array(key.utf8)
        var state = crypto_auth_hmacsha256_state()
        if !self.key.isEmpty {
            self.key.withUnsafeBufferPointer { _ = crypto_auth_hmacsha256_init(&state, $0.baseAddress!, $0.count) }
        }
        keyed = state
    }

    static let sodiumReady: Bool = sodium_init() >= 0

    public var isSigning: Bool { !key.isEmpty }

    /// The lower-case hex digest of the four signed frames.
    public func signature(_ parts: [[UInt8]]) -> [UInt8] {
        guard isSigning else { return [] }
        var state = keyed
        for part in parts {
            part.withUnsafeBufferPointer { buffer in
                if let base = buffer.baseAddress { _ = crypto_auth_hmacsha256_update(&state, base, UInt64(buffer.count)) }
            }
        }
        var digest = [UInt8](repeating: 0, count: Int(crypto_auth_hmacsha256_BYTES))
        crypto_auth_hmacsha256_final(&state, &digest)
        let hex = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for b in digest {
            out.append(hex[Int(b >> 4)])
            out.append(hex[Int(b & 0x0F)])
        }
        return out
    }

    /// Whether `signature` is right for `parts`, compared in constant time.
    public func verify(_ signature: [UInt8], parts: [[UInt8]]) -> Bool {
        guard isSigning else { return true }
        let expected = self.signature(parts)
        guard signature.count == expected.count else { return false }
        return expected.withUnsafeBufferPointer { e in
            signature.withUnsafeBufferPointer { s in
                sodium_memcmp(e.baseAddress, s.baseAddress, e.count) == 0
            }
        }
    }
}
