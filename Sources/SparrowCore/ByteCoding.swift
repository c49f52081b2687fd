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

    /// Appends raw bytes as they are (no length prefix).
    public mutating func append(_ raw: UnsafeRawBufferPointer) { bytes.append(contentsOf: raw) }
    /// Appends the concatenation of `chunks`' pieces.
    public mutating func append(_ chunks: ByteChunks) {
        bytes.reserveCapacity(bytes.count + chunks.count)
        chunks.forEach { append($0) }
    }
}

/// An encoding in `ByteWriter`'s layout kept as a list of pieces instead of one array: small parts it owns (counts,
/// shapes, a config) and large parts borrowed from the storage of whatever is encoded, so a buffer of gigabytes can
/// be checksummed and written to a file without a copy of itself. A borrowed piece is valid only while its owner
/// lives and is not changed, which is why the memories hand their chunks out inside a closure
/// (`TrainingMemory.withEncodedChunks`).
public struct ByteChunks {
    private enum Piece {
        case owned([UInt8])
        case borrowed(UnsafeRawBufferPointer)
    }
    private var pieces: [Piece] = []
    /// Owned bytes written since the last borrowed piece (merged, so a header is one piece, not one per count).
    private var head = ByteWriter()
    /// Bytes in all pieces.
    public private(set) var count = 0
    /// Bytes this value holds itself (the rest is borrowed).
    public private(set) var ownedCount = 0

    public init() {}
    /// One owned piece.
    public init(_ bytes: [UInt8]) { append(bytes) }

    public mutating func write(_ x: Int) { head.write(x); grow(owned: 8) }
    public mutating func write(_ x: Bool) { head.write(x); grow(owned: 1) }
    public mutating func write(_ s: String) { let before = head.bytes.count; head.write(s); grow(owned: head.bytes.count - before) }
    /// Length-prefixed bytes kept as they are (as `ByteWriter.write(bytes:)`, without copying the array).
    public mutating func write(bytes b: [UInt8]) { write(b.count); append(b) }
    /// A length-prefixed array copied into this value (for small arrays computed on the fly).
    public mutating func write<T: BitwiseCopyable>(_ a: [T]) {
        let before = head.bytes.count
        head.write(a)
        grow(owned: head.bytes.count - before)
    }
    /// A length-prefixed array borrowed from its owner: the count is owned, the elements are not copied.
    public mutating func write<T: BitwiseCopyable>(_ a: UnsafeBufferPointer<T>) {
        write(a.count)
        borrow(UnsafeRawBufferPointer(a))
    }

    /// Raw bytes (no length prefix) borrowed from their owner.
    public mutating func borrow(_ raw: UnsafeRawBufferPointer) {
        guard raw.count > 0 else { return }
        closeHead()
        pieces.append(.borrowed(raw))
        count += raw.count
    }

    /// Raw bytes (no length prefix) this value keeps.
    public mutating func append(_ bytes: [UInt8]) {
        closeHead()
        pieces.append(.owned(bytes))
        count += bytes.count; ownedCount += bytes.count
    }

    /// `other`'s pieces after these.
    public mutating func append(_ other: ByteChunks) {
        closeHead()
        pieces += other.pieces
        if !other.head.bytes.isEmpty { pieces.append(.owned(other.head.bytes)) }
        count += other.count; ownedCount += other.ownedCount
    }

    /// Calls `body` with each piece in order (empty pieces are skipped); their concatenation is the encoding.
    public func forEach(_ body: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        for piece in pieces {
            switch piece {
            case let .owned(bytes): try bytes.withUnsafeBytes(body)
            case let .borrowed(raw): try body(raw)
            }
        }
        if !head.bytes.isEmpty { try head.bytes.withUnsafeBytes(body) }
    }

    /// The CRC-32 of the concatenation, computed piece by piece.
    public var crc32: UInt32 {
        var crc = CRC32()
        forEach { crc.update($0) }
        return crc.value
    }

    /// The concatenation as one array (a copy: for small encodings and tests).
    public var bytes: [UInt8] { var w = ByteWriter(); w.append(self); return w.bytes }

    private mutating func grow(owned n: Int) { count += n; ownedCount += n }

    private mutating func closeHead() {
        guard !head.bytes.isEmpty else { return }
        pieces.append(.owned(head.bytes))
        head = ByteWriter()
    }
}

/// Reads what `ByteWriter` wrote, from an array or from a mapped file (`MappedFile`: a checkpoint read in place,
/// without a copy of it in memory). A reader may be a window of its storage (`ChecksummedFrame`'s payload); offsets,
/// `remaining` and the errors count from the window's start.
public struct ByteReader {
    private enum Storage {
        case array([UInt8])
        case mapped(MappedFile)
    }
    private let storage: Storage
    /// The window: storage bytes `start ..< end`.
    private let start: Int, end: Int
    public private(set) var offset = 0

    public init(_ bytes: [UInt8]) { storage = .array(bytes); start = 0; end = bytes.count }
    /// Reads the file's bytes where they are mapped (the reader keeps the mapping alive).
    public init(_ file: MappedFile) { storage = .mapped(file); start = 0; end = file.count }
    private init(_ storage: Storage, start: Int, end: Int) { self.storage = storage; self.start = start; self.end = end }

    public var isAtEnd: Bool { offset == end - start }
    public var remaining: Int { end - start - offset }

    /// A reader of the bytes not read yet (sharing the storage, no copy), starting at its own offset 0.
    public var rest: ByteReader { ByteReader(storage, start: start + offset, end: end) }

    /// Calls `body` with the bytes not read yet, in place (to checksum them).
    public func withUnsafeRemainingBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withStorage(start + offset ..< end, body)
    }

    /// The CRC-32 of the bytes not read yet, computed in place a window at a time; a mapped file's pages are
    /// handed back after each window (they are read from the file again when decoded), so checking a file of
    /// gigabytes keeps little of it resident.
    public func checksumOfRemaining() -> UInt32 {
        var crc = CRC32()
        let window = 16 << 20
        var at = start + offset
        while at < end {
            let upper = min(at + window, end)
            withStorage(at ..< upper) { crc.update($0) }
            if case let .mapped(f) = storage { f.release(at ..< upper) }
            at = upper
        }
        return crc.value
    }

    private func withStorage<R>(_ range: Range<Int>, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch storage {
        case let .array(a): return try a.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[range])) }
        case let .mapped(f): return try withExtendedLifetime(f) { try body(UnsafeRawBufferPointer(rebasing: f.bytes[range])) }
        }
    }

    /// Consumes `n` bytes, handing them to `body` in place.
    private mutating func take<R>(_ n: Int, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        guard n >= 0, n <= remaining else { throw FormatError.truncated(needed: n, available: remaining) }
        let at = start + offset
        offset += n
        return try withStorage(at ..< at + n, body)
    }

    public mutating func read(_: UInt8.Type = UInt8.self) throws -> UInt8 { try take(1) { $0[0] } }
    public mutating func read(_: UInt32.Type = UInt32.self) throws -> UInt32 {
        try take(4) { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) }
    }
    public mutating func read(_: UInt64.Type = UInt64.self) throws -> UInt64 {
        try take(8) { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
    }
    public mutating func read(_: Int.Type = Int.self) throws -> Int { Int(Int64(bitPattern: try read(UInt64.self))) }
    public mutating func read(_: Bool.Type = Bool.self) throws -> Bool { try read(UInt8.self) != 0 }
    public mutating func read(_: Float.Type = Float.self) throws -> Float { Float(bitPattern: try read(UInt32.self)) }
    public mutating func read(_: Double.Type = Double.self) throws -> Double { Double(bitPattern: try read(UInt64.self)) }
    public mutating func read(_: String.Type = String.self) throws -> String {
        let n = try readCount(elementSize: 1)
        return try take(n) { String(decoding: $0, as: UTF8.self) }
    }
    public mutating func readBytes() throws -> [UInt8] { try take(try readCount(elementSize: 1)) { Array($0) } }

    public mutating func read<T: BitwiseCopyable>(_: [T].Type) throws -> [T] {
        let n = try readCount(elementSize: MemoryLayout<T>.stride)
        return try take(n * MemoryLayout<T>.stride) { raw in
            [T](unsafeUninitializedCapacity: n) { buf, count in
                UnsafeMutableRawBufferPointer(buf).copyMemory(from: raw)
                count = n
            }
        }
    }

    /// Reads a length-prefixed array of `T` straight into `destination`, which has room for `count` elements: no
    /// temporary array, so a memory of gigabytes is restored without a second copy of itself. A stored count other
    /// than `count` throws `mismatch(stored)`; a count past the end throws as `read([T].self)` does.
    public mutating func read<T: BitwiseCopyable>(into destination: UnsafeMutablePointer<T>, count: Int,
                                                  mismatch: (_ stored: Int) -> FormatError) throws {
        let n = try readCount(elementSize: MemoryLayout<T>.stride)
        guard n == count else { throw mismatch(n) }
        // A window at a time, so a mapped file's pages are handed back as they are copied (one copy of gigabytes
        // would otherwise keep the whole file resident beside its destination).
        let bytes = n * MemoryLayout<T>.stride, window = 16 << 20
        var done = 0
        while done < bytes {
            let m = min(window, bytes - done)
            try take(m) { raw in (UnsafeMutableRawPointer(destination) + done).copyMemory(from: raw.baseAddress!, byteCount: m) }
            if case let .mapped(f) = storage { f.release(start + offset - m ..< start + offset) }
            done += m
        }
    }

    /// Skips a length-prefixed array of `T` and returns its element count (to check a layout before copying it).
    public mutating func skipArray<T: BitwiseCopyable>(of _: T.Type) throws -> Int {
        let n = try readCount(elementSize: MemoryLayout<T>.stride)
        try take(n * MemoryLayout<T>.stride) { _ in }
        return n
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

/// CRC-32 (IEEE 802.3, as zlib's crc32), to detect corrupted files. Incremental: `update` with the pieces in order
/// gives the checksum of their concatenation. Raw memory is consumed eight bytes a step (slicing-by-8, as zlib and
/// the Linux kernel do) so a checkpoint of gigabytes is checked in seconds; `checksum` of a collection goes a byte a
/// step through the same first table, the plain reference the fast path is tested against.
public struct CRC32 {
    /// tables[k * 256 + b]: the CRC of byte b followed by k zero bytes (table 0 is the classic one).
    private static let tables: [UInt32] = {
        var t = [UInt32](repeating: 0, count: 8 * 256)
        for i in 0..<256 {
            var c = UInt32(i)
            for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
            t[i] = c
        }
        for k in 1..<8 {
            for i in 0..<256 { t[k * 256 + i] = (t[(k - 1) * 256 + i] >> 8) ^ t[Int(t[(k - 1) * 256 + i] & 0xFF)] }
        }
        return t
    }()

    private var state: UInt32 = 0xFFFF_FFFF
    public init() {}

    /// The checksum of everything passed to `update` so far.
    public var value: UInt32 { state ^ 0xFFFF_FFFF }

    public mutating func update(_ raw: UnsafeRawBufferPointer) {
        guard var p = raw.baseAddress, raw.count > 0 else { return }
        var n = raw.count
        var c = state
        Self.tables.withUnsafeBufferPointer { t in
            while n >= 8 {
                let word = UInt64(littleEndian: p.loadUnaligned(as: UInt64.self))
                let lo = UInt32(truncatingIfNeeded: word) ^ c, hi = UInt32(truncatingIfNeeded: word >> 32)
                c = t[7 * 256 + Int(lo & 0xFF)] ^ t[6 * 256 + Int((lo >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((lo >> 16) & 0xFF)] ^ t[4 * 256 + Int(lo >> 24)]
                    ^ t[3 * 256 + Int(hi & 0xFF)] ^ t[2 * 256 + Int((hi >> 8) & 0xFF)]
                    ^ t[1 * 256 + Int((hi >> 16) & 0xFF)] ^ t[Int(hi >> 24)]
                p += 8; n -= 8
            }
            while n > 0 {
                c = t[Int((c ^ UInt32(p.load(as: UInt8.self))) & 0xFF)] ^ (c >> 8)
                p += 1; n -= 1
            }
        }
        state = c
    }

    /// A byte a step: the reference `update(_: UnsafeRawBufferPointer)` must agree with.
    public mutating func update<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        var c = state
        for b in bytes { c = Self.tables[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        state = c
    }

    public static func checksum<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        var crc = CRC32()
        crc.update(bytes)
        return crc.value
    }
}

/// The framing every Sparrow binary file shares: magic, format version, payload length, CRC-32 of the payload,
/// payload. `unframe` checks all four and says which failed (truncated, trailing bytes, version, checksum).
public enum ChecksummedFrame {
    /// The bytes before the payload.
    static func header(magic: [UInt8], version: UInt32, payloadCount: Int, crc: UInt32) -> [UInt8] {
        var out = ByteWriter()
        for b in magic { out.write(b) }
        out.write(version)
        out.write(payloadCount)
        out.write(crc)
        return out.bytes
    }

    public static func frame(magic: [UInt8], version: UInt32, payload: [UInt8]) -> [UInt8] {
        header(magic: magic, version: version, payloadCount: payload.count, crc: CRC32.checksum(payload)) + payload
    }

    /// Writes `frame(payload: payload.bytes)` to `path` atomically (`AtomicFile`) without joining the pieces: the
    /// header needs the payload's length and CRC, so they are computed over the pieces first, then header and pieces
    /// are written in order.
    public static func write(magic: [UInt8], version: UInt32, payload: ByteChunks, to path: String) throws {
        var file = ByteChunks(header(magic: magic, version: version, payloadCount: payload.count, crc: payload.crc32))
        file.append(payload)
        try AtomicFile.write(file, to: path)
    }

    /// The verified payload. `kind` names the file in errors ("not a Sparrow checkpoint file").
    public static func unframe(_ bytes: [UInt8], magic: [UInt8], version: UInt32, kind: String) throws -> [UInt8] {
        try unframe(bytes, magic: magic, versions: version...version, kind: kind).payload
    }

    /// The verified payload of a file whose version is any of `versions`, and that version.
    public static func unframe(_ bytes: [UInt8], magic: [UInt8], versions: ClosedRange<UInt32>,
                               kind: String) throws -> (payload: [UInt8], version: UInt32) {
        let (payload, version) = try unframe(ByteReader(bytes), magic: magic, versions: versions, kind: kind)
        return (payload.withUnsafeRemainingBytes { Array($0) }, version)
    }

    /// `unframe` in place: the payload is a reader over the same storage (a mapped checkpoint is checksummed where
    /// it lies and never copied).
    public static func unframe(_ file: ByteReader, magic: [UInt8], versions: ClosedRange<UInt32>,
                               kind: String) throws -> (payload: ByteReader, version: UInt32) {
        var r = file
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
        let payload = r.rest
        guard payload.checksumOfRemaining() == crc else { throw FormatError.checksumMismatch }
        return (payload, v)
    }
}
