import CSodium

/// SHA-256 over bytes as they arrive (libsodium's `crypto_hash_sha256_*`),
/// so a download is checked without reading the file again.
struct SHA256 {
    private var state = crypto_hash_sha256_state()
    private static let ready: Bool = sodium_init() >= 0

    init() {
        _ = SHA256.ready
        crypto_hash_sha256_init(&state)
    }

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        crypto_hash_sha256_update(&state, base.assumingMemoryBound(to: UInt8.self), UInt64(bytes.count))
    }

    /// The digest as lower-case hex, as checksum lists write it.
    mutating func hex() -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        crypto_hash_sha256_final(&state, &digest)
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: digest.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }, as: UTF8.self)
    }

    /// The digest of `bytes` at once.
    static func hex(of bytes: [UInt8]) -> String {
        var h = SHA256()
        bytes.withUnsafeBytes { h.update($0) }
        return h.hex()
    }
}
