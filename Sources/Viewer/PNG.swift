import SparrowCore

/// A minimal PNG writer for 8-bit RGB images (Foundation has no image encoder on Linux).
///
/// Each row gets the PNG filter (None, Sub, Up, Average or Paeth) with the smallest sum of absolute residuals, the
/// usual heuristic; the filtered bytes are compressed by `Deflate` (LZ77 + fixed Huffman codes) inside a zlib
/// stream. Rendered frames (flat sky, checker floor) compress to a few tens of kB.
public enum PNG {
    public static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Encodes `rgb` (width × height × 3 bytes, top row first).
    public static func encode(rgb: [UInt8], width: Int, height: Int, compress: Bool = true) -> [UInt8] {
        precondition(width > 0 && height > 0 && rgb.count == width * height * 3, "need width × height × 3 RGB bytes")
        var ihdr: [UInt8] = []
        appendBigEndian(UInt32(width), to: &ihdr)
        appendBigEndian(UInt32(height), to: &ihdr)
        ihdr += [8, 2, 0, 0, 0]  // bit depth 8, colour type 2 (RGB), deflate, adaptive filtering, no interlace
        let filtered = filterRows(rgb, width: width, height: height)
        var out = signature
        appendChunk("IHDR", ihdr, to: &out)
        appendChunk("IDAT", Deflate.zlib(filtered, compress: compress), to: &out)
        appendChunk("IEND", [], to: &out)
        return out
    }

    /// Writes a PNG file atomically.
    public static func write(rgb: [UInt8], width: Int, height: Int, to path: String) throws {
        try AtomicFile.write(encode(rgb: rgb, width: width, height: height), to: path)
    }

    /// The scanlines, each prefixed by its filter type byte.
    static func filterRows(_ rgb: [UInt8], width: Int, height: Int) -> [UInt8] {
        let stride = width * 3
        var out = [UInt8](repeating: 0, count: (stride + 1) * height)
        var candidate = [UInt8](repeating: 0, count: stride)
        rgb.withUnsafeBufferPointer { img in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<height {
                    let row = y * stride, prev = row - stride
                    var best = 0, bestCost = Int.max
                    for filter in 0..<5 {
                        var cost = 0
                        for i in 0..<stride {
                            let a = i >= 3 ? Int(img[row + i - 3]) : 0
                            let b = y > 0 ? Int(img[prev + i]) : 0
                            let c = (i >= 3 && y > 0) ? Int(img[prev + i - 3]) : 0
                            let predictor: Int
                            switch filter {
                            case 0: predictor = 0
                            case 1: predictor = a
                            case 2: predictor = b
                            case 3: predictor = (a + b) >> 1
                            default: predictor = paeth(a, b, c)
                            }
                            let r = UInt8(truncatingIfNeeded: Int(img[row + i]) - predictor)
                            candidate[i] = r
                            cost += r < 128 ? Int(r) : 256 - Int(r)
                        }
                        if cost < bestCost {
                            bestCost = cost; best = filter
                            let base = y * (stride + 1)
                            dst[base] = UInt8(filter)
                            for i in 0..<stride { dst[base + 1 + i] = candidate[i] }
                        }
                    }
                    _ = best
                }
            }
        }
        return out
    }

    @inline(__always) static func paeth(_ a: Int, _ b: Int, _ c: Int) -> Int {
        let p = a + b - c
        let pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
        return pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
    }

    static func appendChunk(_ type: String, _ data: [UInt8], to out: inout [UInt8]) {
        appendBigEndian(UInt32(data.count), to: &out)
        let body = Array(type.utf8) + data
        out += body
        appendBigEndian(CRC32.checksum(body), to: &out)
    }

    static func appendBigEndian(_ x: UInt32, to out: inout [UInt8]) {
        out += [UInt8(x >> 24), UInt8((x >> 16) & 0xFF), UInt8((x >> 8) & 0xFF), UInt8(x & 0xFF)]
    }
}

/// DEFLATE (RFC 1951) with greedy LZ77 matching over a 32 kB window and the fixed Huffman codes, plus the
/// stored-block form as the obviously correct twin; `zlib` wraps either in RFC 1950 (header + Adler-32).
public enum Deflate {
    /// A zlib stream of `data`: compressed (one fixed-Huffman block) or stored (uncompressed blocks).
    public static func zlib(_ data: [UInt8], compress: Bool = true) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]  // deflate, 32 kB window, check bits (0x7801 % 31 == 0)
        out += compress ? fixedHuffman(data) : stored(data)
        PNG.appendBigEndian(adler32(data), to: &out)
        return out
    }

    public static func adler32(_ data: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        var i = 0
        while i < data.count {
            let end = min(i + 5552, data.count)  // the largest block before b can overflow
            while i < end { a += UInt32(data[i]); b += a; i += 1 }
            a %= 65521; b %= 65521
        }
        return (b << 16) | a
    }

    /// Uncompressed blocks of at most 65535 bytes.
    public static func stored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        repeat {
            let n = min(65535, data.count - i)
            let final: UInt8 = i + n == data.count ? 1 : 0
            out += [final, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
            out += data[i..<(i + n)]
            i += n
        } while i < data.count
        return out
    }

    static let lengthBase: [Int] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115,
                                    131, 163, 195, 227, 258]
    static let lengthExtra: [Int] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    static let distanceBase: [Int] = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
                                      2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    static let distanceExtra: [Int] = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]

    /// One final block with the fixed Huffman code (BTYPE 01) and greedy hash-chain matching.
    public static func fixedHuffman(_ data: [UInt8]) -> [UInt8] {
        var bits = BitWriter()
        bits.write(1, count: 1)  // BFINAL
        bits.write(1, count: 2)  // BTYPE = 01
        let n = data.count
        let window = 1 << 15, hashSize = 1 << 15, maxChain = 24
        var head = [Int32](repeating: -1, count: hashSize)
        var prev = [Int32](repeating: -1, count: window)
        data.withUnsafeBufferPointer { d in
            @inline(__always) func hash(_ i: Int) -> Int {
                (Int(d[i]) << 10 ^ Int(d[i + 1]) << 5 ^ Int(d[i + 2])) & (hashSize - 1)
            }
            @inline(__always) func insert(_ i: Int) {
                guard i + 2 < n else { return }
                let h = hash(i)
                prev[i & (window - 1)] = head[h]
                head[h] = Int32(i)
            }
            var i = 0
            while i < n {
                var bestLength = 0, bestDistance = 0
                if i + 2 < n {
                    var candidate = Int(head[hash(i)])
                    var chain = 0
                    let limit = min(258, n - i)
                    while candidate >= 0 && i - candidate <= window - 1 && chain < maxChain {
                        if d[candidate + bestLength] == d[i + bestLength] {
                            var l = 0
                            while l < limit && d[candidate + l] == d[i + l] { l += 1 }
                            if l > bestLength { bestLength = l; bestDistance = i - candidate; if l == limit { break } }
                        }
                        let next = Int(prev[candidate & (window - 1)])
                        if next >= candidate { break }  // the slot was reused by a newer position
                        candidate = next
                        chain += 1
                    }
                }
                if bestLength >= 3 {
                    writeLength(bestLength, &bits)
                    writeDistance(bestDistance, &bits)
                    for k in 0..<bestLength { insert(i + k) }
                    i += bestLength
                } else {
                    writeLiteral(Int(d[i]), &bits)
                    insert(i)
                    i += 1
                }
            }
        }
        writeLiteral(256, &bits)  // end of block
        return bits.finish()
    }

    /// Fixed literal/length code of a symbol 0…287 (RFC 1951 §3.2.6).
    @inline(__always) static func writeLiteral(_ symbol: Int, _ bits: inout BitWriter) {
        switch symbol {
        case 0...143: bits.writeHuffman(0x30 + symbol, length: 8)
        case 144...255: bits.writeHuffman(0x190 + symbol - 144, length: 9)
        case 256...279: bits.writeHuffman(symbol - 256, length: 7)
        default: bits.writeHuffman(0xC0 + symbol - 280, length: 8)
        }
    }

    @inline(__always) static func writeLength(_ length: Int, _ bits: inout BitWriter) {
        var code = lengthBase.count - 1
        while lengthBase[code] > length { code -= 1 }
        writeLiteral(257 + code, &bits)
        if lengthExtra[code] > 0 { bits.write(UInt32(length - lengthBase[code]), count: lengthExtra[code]) }
    }

    @inline(__always) static func writeDistance(_ distance: Int, _ bits: inout BitWriter) {
        var code = distanceBase.count - 1
        while distanceBase[code] > distance { code -= 1 }
        bits.writeHuffman(code, length: 5)
        if distanceExtra[code] > 0 { bits.write(UInt32(distance - distanceBase[code]), count: distanceExtra[code]) }
    }
}

/// Packs bits least-significant first, as DEFLATE does; Huffman codes go most-significant bit first.
struct BitWriter {
    var bytes: [UInt8] = []
    var buffer: UInt64 = 0
    var filled = 0

    @inline(__always) mutating func write(_ value: UInt32, count: Int) {
        buffer |= UInt64(value) << UInt64(filled)
        filled += count
        while filled >= 8 {
            bytes.append(UInt8(truncatingIfNeeded: buffer))
            buffer >>= 8
            filled -= 8
        }
    }

    @inline(__always) mutating func writeHuffman(_ code: Int, length: Int) {
        var reversed: UInt32 = 0
        for k in 0..<length { reversed |= UInt32((code >> k) & 1) << UInt32(length - 1 - k) }
        write(reversed, count: length)
    }

    mutating func finish() -> [UInt8] {
        if filled > 0 { bytes.append(UInt8(truncatingIfNeeded: buffer)) }
        buffer = 0; filled = 0
        return bytes
    }
}
