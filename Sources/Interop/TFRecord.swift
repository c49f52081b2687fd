import Foundation

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of TFRecord framing.
public enum CRC32C {
    static let table: [UInt32] = (0..<256).map { i in
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
        return c
    }

    public static func checksum<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }

    /// TFRecord's masked CRC: rotate right by 15 and add a constant (so a CRC of data holding CRCs stays strong).
    public static func masked<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        let c = checksum(bytes)
        return ((c >> 15) | (c << 17)) &+ 0xA282_EAD8
    }
}

/// TFRecord framing, as TensorFlow's `record_writer.cc` writes it: little-endian uint64 length, masked CRC-32C of
/// those 8 bytes, the data, masked CRC-32C of the data.
public enum TFRecord {
    public static func frame(_ data: [UInt8], into out: inout [UInt8]) {
        var length = [UInt8](repeating: 0, count: 8)
        for i in 0..<8 { length[i] = UInt8(truncatingIfNeeded: UInt64(data.count) >> (8 * UInt64(i))) }
        out += length
        appendLE(CRC32C.masked(length), to: &out)
        out += data
        appendLE(CRC32C.masked(data), to: &out)
    }

    /// The records of a TFRecord file's bytes, in order, up to the first torn or corrupted one (a process killed
    /// mid-write leaves at most a partial last record).
    public static func records(in bytes: [UInt8]) -> [[UInt8]] {
        var out: [[UInt8]] = [], at = 0
        while at + 12 <= bytes.count {
            let lengthBytes = bytes[at..<at + 8]
            guard readLE32(bytes, at + 8) == CRC32C.masked(lengthBytes) else { break }
            var n: UInt64 = 0
            for (i, b) in lengthBytes.enumerated() { n |= UInt64(b) << (8 * UInt64(i)) }
            guard n <= UInt64(bytes.count - at - 16) else { break }
            let start = at + 12, end = start + Int(n)
            let data = Array(bytes[start..<end])
            guard readLE32(bytes, end) == CRC32C.masked(data) else { break }
            out.append(data)
            at = end + 4
        }
        return out
    }

    static func appendLE(_ v: UInt32, to out: inout [UInt8]) {
        for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) }
    }

    static func readLE32(_ b: [UInt8], _ at: Int) -> UInt32 {
        UInt32(b[at]) | UInt32(b[at + 1]) << 8 | UInt32(b[at + 2]) << 16 | UInt32(b[at + 3]) << 24
    }
}
