/// The kernel's logo, drawn as a PNG: a woven grid of warp and weft threads.
enum Logo {
    static func png(size: Int) -> [UInt8] {
        var rows: [UInt8] = []
        let band = max(2, size / 8)
        for y in 0..<size {
            rows.append(0)  // filter: none
            for x in 0..<size {
                let warp = (x / band) % 2 == 0, weft = (y / band) % 2 == 0
                let over = ((x / band) + (y / band)) % 2 == 0
                let (r, g, b): (UInt8, UInt8, UInt8)
                switch (warp, weft) {
                case (true, true): (r, g, b) = over ? (0x2B, 0x59, 0xC3) : (0xE0, 0x7A, 0x1F)
                case (true, false): (r, g, b) = (0x2B, 0x59, 0xC3)
                case (false, true): (r, g, b) = (0xE0, 0x7A, 0x1F)
                case (false, false): (r, g, b) = (0xFF, 0xFF, 0xFF)
                }
                rows += [r, g, b, 0xFF]
            }
        }
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        png += chunk("IHDR", be32(UInt32(size)) + be32(UInt32(size)) + [8, 6, 0, 0, 0])
        png += chunk("IDAT", zlibStored(rows))
        png += chunk("IEND", [])
        return png
    }

    static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return be32(UInt32(data.count)) + body + be32(crc32(body))
    }

    /// zlib data in uncompressed (stored) blocks: valid for every PNG reader.
    static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let n = min(65535, data.count - offset)
            let last: UInt8 = offset + n == data.count ? 1 : 0
            out += [last, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
            out += data[offset..<offset + n]
            offset += n
        } while offset < data.count
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in data { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
        return out + be32((b << 16) | a)
    }

    static func crc32(_ data: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc >> 1) ^ (0xEDB8_8320 & (0 &- (crc & 1))) }
        }
        return ~crc
    }
}
