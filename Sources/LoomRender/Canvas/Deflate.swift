/// A small DEFLATE compressor (RFC 1951) with zlib framing (RFC 1950), for
/// the PNGs inside SVG figures: greedy LZ77 matches over a 32 KiB window,
/// coded with the fixed Huffman tables. Runs of one colour (gaps, zeros,
/// repeated rows) shrink to a few bits; deterministic, so figures are
/// byte-stable.
enum Deflate {
    static func zlib(_ data: [UInt8]) -> [UInt8] {
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in data {
            a = (a + UInt32(byte)) % 65521
            b = (b + a) % 65521
        }
        return [0x78, 0x01] + compress(data) + PNG.be32((b << 16) | a)
    }

    /// One final block with fixed Huffman codes.
    static func compress(_ data: [UInt8]) -> [UInt8] {
        var out = BitWriter()
        out.write(1, bits: 1)  // BFINAL
        out.write(1, bits: 2)  // BTYPE 01: fixed codes
        let window = 32768, hashSize = 1 << 15, maxChain = 64
        var head = [Int](repeating: -1, count: hashSize)
        var previous = [Int](repeating: -1, count: window)
        func hash(_ i: Int) -> Int {
            (Int(data[i]) << 10 ^ Int(data[i + 1]) << 5 ^ Int(data[i + 2])) & (hashSize - 1)
        }
        func insert(_ i: Int) {
            guard i + 2 < data.count else { return }
            let h = hash(i)
            previous[i & (window - 1)] = head[h]
            head[h] = i
        }
        var i = 0
        while i < data.count {
            var bestLength = 0, bestDistance = 0
            if i + 2 < data.count {
                var candidate = head[hash(i)]
                var chain = 0
                let limit = min(258, data.count - i)
                while candidate >= 0, i - candidate <= window, chain < maxChain {
                    var n = 0
                    while n < limit, data[candidate + n] == data[i + n] { n += 1 }
                    if n > bestLength {
                        bestLength = n
                        bestDistance = i - candidate
                        if n == limit { break }
                    }
                    let next = previous[candidate & (window - 1)]
                    guard next < candidate else { break }
                    candidate = next
                    chain += 1
                }
            }
            if bestLength >= 3 {
                out.writeLength(bestLength)
                out.writeDistance(bestDistance)
                for k in i..<(i + bestLength) { insert(k) }
                i += bestLength
            } else {
                out.writeLiteral(Int(data[i]))
                insert(i)
                i += 1
            }
        }
        out.writeLiteral(256)  // end of block
        return out.finish()
    }

    static let lengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115,
                             131, 163, 195, 227, 258]
    static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    static let distanceBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
                               2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    static let distanceExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12,
                                13, 13]

    /// The last table entry whose base is at most `value`.
    static func code(for value: Int, bases: [Int]) -> Int {
        var k = bases.count - 1
        while bases[k] > value { k -= 1 }
        return k
    }
}

/// Bits packed least significant first, as DEFLATE stores them; Huffman
/// codes go in most significant bit first.
struct BitWriter {
    private var bytes: [UInt8] = []
    private var buffer: UInt32 = 0
    private var count = 0

    mutating func write(_ value: Int, bits: Int) {
        buffer |= UInt32(value) << count
        count += bits
        while count >= 8 {
            bytes.append(UInt8(buffer & 0xFF))
            buffer >>= 8
            count -= 8
        }
    }

    mutating func writeCode(_ code: Int, bits: Int) {
        var reversed = 0
        for k in 0..<bits where code & (1 << k) != 0 { reversed |= 1 << (bits - 1 - k) }
        write(reversed, bits: bits)
    }

    /// A literal byte or end-of-block (256) or length symbol (257…285), fixed code.
    mutating func writeLiteral(_ symbol: Int) {
        switch symbol {
        case 0...143: writeCode(0x30 + symbol, bits: 8)
        case 144...255: writeCode(0x190 + symbol - 144, bits: 9)
        case 256...279: writeCode(symbol - 256, bits: 7)
        default: writeCode(0xC0 + symbol - 280, bits: 8)
        }
    }

    mutating func writeLength(_ length: Int) {
        let k = Deflate.code(for: length, bases: Deflate.lengthBase)
        writeLiteral(257 + k)
        write(length - Deflate.lengthBase[k], bits: Deflate.lengthExtra[k])
    }

    mutating func writeDistance(_ distance: Int) {
        let k = Deflate.code(for: distance, bases: Deflate.distanceBase)
        writeCode(k, bits: 5)
        write(distance - Deflate.distanceBase[k], bits: Deflate.distanceExtra[k])
    }

    mutating func finish() -> [UInt8] {
        if count > 0 { bytes.append(UInt8(buffer & 0xFF)) }
        buffer = 0
        count = 0
        return bytes
    }
}
