/// Little-endian binary encoding for checkpoints and saved networks: fixed-width scalars, length-prefixed
/// arrays and strings. Reading past the end throws (a truncated file is an error, never a trap).
public struct ByteWriter {
    public private(set) var bytes: [UInt8] = []
    public init() {}

    public mutating func write(_ x: UInt8) { bytes.append(x) }
    public mutating func write(_ x: UInt32) { withUnsafeBytes(of: x.littleEndian) { bytes.append(contentsOf: $0) } }
    public mutating func write(_ x: UInt64) { withUnsafeBytes(of: x.littleEndian) { bytes.append(contentsOf: $0) } }
    public mutating func write(_ x: Int) { write(UInt64(bitPattern: Int64(x))) }
    public mutating func write(_ x: Bool) { write(UInt8(x ? 1 : 0)) }
    public mutating func write(_ x: Float) { write(x.bitPattern) }
    public mutating func write(_ x: Double) { write(x.bitPattern) }
    public mutating func write(_ s: String) { let u = Array(s.utf8); write(u.count); bytes.append(contentsOf: u) }
    public mutating func write(bytes b: [UInt8]) { write(b.count); bytes.append(contentsOf: b) }

    /// Arrays of trivial element types are copied as raw memory (little-endian hosts only, as x86-64/arm64).
    public mutating func write<T: BitwiseCopyable>(_ a: [T]) {
        write(a.count)
        a.withUnsafeBytes { bytes.append(contentsOf: $0) }
    }
    public mutating func write<T: BitwiseCopyable>(_ a: UnsafeBufferPointer<T>) {
        write(a.count)
        bytes.append(contentsOf: UnsafeRawBufferPointer(a))
    }
}

public struct ByteReader {
    public let bytes: [UInt8]
    public private(set) var offset = 0
    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var isAtEnd: Bool { offset == bytes.count }
    public var remaining: Int { bytes.count - offset }

    private mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, n <= remaining else { throw FormatError.truncated(needed: n, available: remaining) }
        defer { offset += n }
        return bytes[offset..<offset + n]
    }

    public mutating func read(_: UInt8.Type = UInt8.self) throws -> UInt8 { try take(1).first! }
    public mutating func read(_: UInt32.Type = UInt32.self) throws -> UInt32 {
        try take(4).withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) }
    }
    public mutating func read(_: UInt64.Type = UInt64.self) throws -> UInt64 {
        try take(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
    }
    public mutating func read(_: Int.Type = Int.self) throws -> Int { Int(Int64(bitPattern: try read(UInt64.self))) }
    public mutating func read(_: Bool.Type = Bool.self) throws -> Bool { try read(UInt8.self) != 0 }
    public mutating func read(_: Float.Type = Float.self) throws -> Float { Float(bitPattern: try read(UInt32.self)) }
    public mutating func read(_: Double.Type = Double.self) throws -> Double { Double(bitPattern: try read(UInt64.self)) }
    public mutating func read(_: String.Type = String.self) throws -> String {
        let n = try readCount(elementSize: 1)
        return String(decoding: try take(n), as: UTF8.self)
    }
    public mutating func readBytes() throws -> [UInt8] { Array(try take(try readCount(elementSize: 1))) }

    public mutating func read<T: BitwiseCopyable>(_: [T].Type) throws -> [T] {
        let n = try readCount(elementSize: MemoryLayout<T>.stride)
        let raw = try take(n * MemoryLayout<T>.stride)
        return [T](unsafeUninitializedCapacity: n) { buf, count in
            raw.withUnsafeBytes { src in UnsafeMutableRawBufferPointer(buf).copyMemory(from: src) }
            count = n
        }
    }

    /// A length prefix, checked against what is left so a corrupt length cannot ask for terabytes.
    private mutating func readCount(elementSize: Int) throws -> Int {
        let n = try read(Int.self)
        guard n >= 0, n <= remaining / max(elementSize, 1) else {
            throw FormatError.corrupt("a length field says \(n) elements but only \(remaining) bytes remain")
        }
        return n
    }
}

/// Problems reading a binary file. Each prints as one line.
public enum FormatError: Error, CustomStringConvertible, Equatable {
    case truncated(needed: Int, available: Int)
    case corrupt(String)
    case badMagic(expected: String)
    case unsupportedVersion(found: UInt32, supported: UInt32)
    /// A reader of several versions (`oldest...newest`) found another one.
    case unsupportedVersions(found: UInt32, supported: ClosedRange<UInt32>)
    case checksumMismatch

    public var description: String {
        switch self {
        case let .truncated(needed, available): return "file is truncated (needed \(needed) more bytes, \(available) left)"
        case let .corrupt(detail): return "file is corrupted: \(detail)"
        case let .badMagic(expected): return "not a \(expected) file"
        case let .unsupportedVersion(found, supported):
            return "format version \(found) is not supported (this build reads version \(supported))"
        case let .unsupportedVersions(found, supported):
            return "format version \(found) is not supported (this build reads versions \(supported.lowerBound) to \(supported.upperBound))"
        case .checksumMismatch: return "checksum mismatch: the file is corrupted"
        }
    }
}

/// CRC-32 (IEEE 802.3, as zlib's crc32), to detect corrupted files.
public enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { i -> UInt32 in
        var c = UInt32(i)
        for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    public static func checksum<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}

/// The framing every Sparrow binary file shares: magic, format version, payload length, CRC-32 of the payload,
/// payload. `unframe` checks all four and says which failed (truncated, trailing bytes, version, checksum).
public enum ChecksummedFrame {
    public static func frame(magic: [UInt8], version: UInt32, payload: [UInt8]) -> [UInt8] {
        var out = ByteWriter()
        for b in magic { out.write(b) }
        out.write(version)
        out.write(payload.count)
        out.write(CRC32.checksum(payload))
        return out.bytes + payload
    }

    /// The verified payload. `kind` names the file in errors ("not a Sparrow checkpoint file").
    public static func unframe(_ bytes: [UInt8], magic: [UInt8], version: UInt32, kind: String) throws -> [UInt8] {
        try unframe(bytes, magic: magic, versions: version...version, kind: kind).payload
    }

    /// The verified payload of a file whose version is any of `versions`, and that version.
    public static func unframe(_ bytes: [UInt8], magic: [UInt8], versions: ClosedRange<UInt32>,
                               kind: String) throws -> (payload: [UInt8], version: UInt32) {
        var r = ByteReader(bytes)
        for b in magic where try r.read(UInt8.self) != b { throw FormatError.badMagic(expected: kind) }
        let v = try r.read(UInt32.self)
        guard versions.contains(v) else {
            throw versions.count == 1 ? FormatError.unsupportedVersion(found: v, supported: versions.lowerBound)
                : FormatError.unsupportedVersions(found: v, supported: versions)
        }
        let length = try r.read(Int.self)
        let crc = try r.read(UInt32.self)
        guard length == r.remaining else {
            throw length > r.remaining ? FormatError.truncated(needed: length, available: r.remaining)
                : FormatError.corrupt("\(r.remaining - length) unexpected trailing bytes")
        }
        let payload = Array(bytes[r.offset...])
        guard CRC32.checksum(payload) == crc else { throw FormatError.checksumMismatch }
        return (payload, v)
    }
}
