import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A reference PNG reader for tests: chunk CRCs checked, IDAT inflated by the system's zlib (loaded at run time),
/// scanline filters undone. Returns RGB rows top first.
public enum ReferencePNG {
    public struct Image { public let width: Int; public let height: Int; public let rgb: [UInt8]; public let filtered: [UInt8] }
    public struct Failure: Error, CustomStringConvertible { public let description: String }

    typealias Uncompress = @convention(c) (UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<UInt>?, UnsafePointer<UInt8>?, UInt) -> Int32

    /// zlib's `uncompress` (zlib1g is an essential Debian package).
    public static func inflate(_ data: [UInt8], expected: Int) throws -> [UInt8] {
        guard let lib = dlopen("libz.so.1", RTLD_NOW), let f = dlsym(lib, "uncompress") else { throw Failure(description: "no libz.so.1") }
        let uncompress = unsafeBitCast(f, to: Uncompress.self)
        var out = [UInt8](repeating: 0, count: expected + 1)
        var length = UInt(out.count)
        let rc = uncompress(&out, &length, data, UInt(data.count))
        guard rc == 0 else { throw Failure(description: "zlib uncompress failed with \(rc)") }
        return Array(out[0..<Int(length)])
    }

    public static func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        }
        return ~c
    }

    public static func decode(_ d: [UInt8]) throws -> Image {
        guard d.count > 8, Array(d[0..<8]) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] else { throw Failure(description: "signature") }
        func u32(_ i: Int) -> Int { Int(d[i]) << 24 | Int(d[i + 1]) << 16 | Int(d[i + 2]) << 8 | Int(d[i + 3]) }
        var i = 8, width = 0, height = 0
        var idat: [UInt8] = []
        var sawEnd = false
        while i + 12 <= d.count {
            let n = u32(i)
            let type = String(decoding: d[(i + 4)..<(i + 8)], as: UTF8.self)
            guard i + 12 + n <= d.count else { throw Failure(description: "truncated chunk \(type)") }
            guard crc32(d[(i + 4)..<(i + 8 + n)]) == UInt32(u32(i + 8 + n)) else { throw Failure(description: "bad CRC in \(type)") }
            if type == "IHDR" {
                width = u32(i + 8); height = u32(i + 12)
                guard Array(d[(i + 16)..<(i + 21)]) == [8, 2, 0, 0, 0] else { throw Failure(description: "not 8-bit RGB") }
            }
            if type == "IDAT" { idat += d[(i + 8)..<(i + 8 + n)] }
            if type == "IEND" { sawEnd = true }
            i += 12 + n
        }
        guard sawEnd, width > 0, height > 0 else { throw Failure(description: "missing IHDR or IEND") }
        let stride = width * 3
        let filtered = try inflate(idat, expected: (stride + 1) * height)
        guard filtered.count == (stride + 1) * height else { throw Failure(description: "wrong data size") }
        var rgb = [UInt8](repeating: 0, count: stride * height)
        for y in 0..<height {
            let f = filtered[y * (stride + 1)]
            for x in 0..<stride {
                let raw = Int(filtered[y * (stride + 1) + 1 + x])
                let a = x >= 3 ? Int(rgb[y * stride + x - 3]) : 0
                let b = y > 0 ? Int(rgb[(y - 1) * stride + x]) : 0
                let c = x >= 3 && y > 0 ? Int(rgb[(y - 1) * stride + x - 3]) : 0
                let p: Int
                switch f {
                case 0: p = 0
                case 1: p = a
                case 2: p = b
                case 3: p = (a + b) / 2
                case 4:
                    let e = a + b - c, pa = abs(e - a), pb = abs(e - b), pc = abs(e - c)
                    p = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
                default: throw Failure(description: "filter type \(f)")
                }
                rgb[y * stride + x] = UInt8(truncatingIfNeeded: raw + p)
            }
        }
        return Image(width: width, height: height, rgb: rgb, filtered: filtered)
    }

    public static func read(_ path: String) throws -> Image { try decode(Array(try Data(contentsOf: URL(fileURLWithPath: path)))) }

    /// Distinct RGB colours in an image.
    public static func colourCount(_ image: Image) -> Int {
        var seen = Set<Int>()
        for k in stride(from: 0, to: image.rgb.count, by: 3) {
            seen.insert(Int(image.rgb[k]) << 16 | Int(image.rgb[k + 1]) << 8 | Int(image.rgb[k + 2]))
        }
        return seen.count
    }
}
